// Traffic counts (GET /api/traffic/counts) for the stacked bar chart and the advisory speed
// line: series per line, direction and vehicle class. Pure: no DOM. Speeds are advisory, never
// evidential (docs/traffic.md); formatSpeed in format.ts says so wherever one is shown.

import type { Counts } from './types';

export interface TrafficSeries {
  line: string;
  direction: string;
  label: string;
}

export interface TrafficBucket {
  start_ms: number;
  /** One count per series, in `series` order. */
  counts: number[];
  /** One mean speed per series; null where no vehicle of the series had a speed. */
  mean_speed_kmh: (number | null)[];
}

export interface TrafficCounts {
  camera: string;
  bucket_ms: number;
  from_ms: number;
  to_ms: number;
  series: TrafficSeries[];
  buckets: TrafficBucket[];
}

/** How a series is named in the legend, tooltips and the chart's stacking: "main · east · car". */
export function seriesName(s: TrafficSeries): string {
  return `${s.line} · ${s.direction} · ${s.label}`;
}

/**
 * The answer in the shape the bar chart stacks (chart.ts `stackCounts`): one "label" per
 * series, in the server's series order; missing counts are 0.
 */
export function trafficToCounts(t: TrafficCounts): Counts {
  const names = t.series.map(seriesName);
  return {
    type: 'traffic',
    bucket_ms: t.bucket_ms,
    from_ms: t.from_ms,
    to_ms: t.to_ms,
    labels: names,
    buckets: t.buckets.map((b) => ({
      start_ms: b.start_ms,
      counts: Object.fromEntries(names.map((name, i) => [name, b.counts[i] ?? 0])),
    })),
  };
}

/** The counting lines the answer has series for, in first-seen order. */
export function trafficLines(t: Pick<TrafficCounts, 'series'>): string[] {
  return [...new Set(t.series.map((s) => s.line))];
}

/** Mean speed per bucket of series `index` (null: none measured). */
export function speedValues(t: TrafficCounts, index: number): (number | null)[] {
  return t.buckets.map((b) => {
    const v = b.mean_speed_kmh[index];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
  });
}

/**
 * The series' mean speed over the range: bucket means weighted by the bucket's count (the
 * answer has no count of measured vehicles, so this is the best estimate it allows); null
 * when no bucket has a speed.
 */
export function meanSpeed(t: TrafficCounts, index: number): number | null {
  let weighted = 0;
  let n = 0;
  for (const b of t.buckets) {
    const v = b.mean_speed_kmh[index];
    const count = b.counts[index] ?? 0;
    if (typeof v !== 'number' || !(v > 0) || count <= 0) continue;
    weighted += v * count;
    n += count;
  }
  return n > 0 ? weighted / n : null;
}

/** Whether any series has a speed: the speed chart is drawn only then. */
export function hasSpeeds(t: TrafficCounts): boolean {
  return t.series.some((_, i) => speedValues(t, i).some((v) => v !== null));
}
