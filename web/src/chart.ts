// Scaling and layout of the counts chart (stacked bars per label). Pure: no DOM.

import type { Counts } from './types';

/** The smallest "nice" number (1, 2 or 5 times a power of ten) at or above `value`. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) {
    const nice = m * power;
    if (nice >= value - power * 1e-9) return nice;
  }
  return 10 * power;
}

/**
 * A y axis from 0 that holds `max` with at most `max_ticks` ticks on integer steps (counts are
 * integers): returns the axis top and the tick values, 0 included.
 */
export function countAxis(max: number, max_ticks = 5): { top: number; ticks: number[] } {
  const step = Math.max(1, niceCeil(Math.max(max, 1) / Math.max(max_ticks, 1)));
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= top; t += step) ticks.push(t);
  return { top, ticks };
}

export interface Segment {
  label: string;
  count: number;
  /** Bottom and top of the segment in count units (stacked). */
  y0: number;
  y1: number;
}

export interface StackedBucket {
  start_ms: number;
  total: number;
  segments: Segment[];
}

/** Buckets with their label counts stacked in `labels` order; unknown labels count as 0. */
export function stackCounts(counts: Counts, labels: readonly string[]): StackedBucket[] {
  return counts.buckets.map((bucket) => {
    let y = 0;
    const segments: Segment[] = [];
    for (const label of labels) {
      const count = bucket.counts[label] ?? 0;
      if (count > 0) segments.push({ label, count, y0: y, y1: y + count });
      y += count;
    }
    return { start_ms: bucket.start_ms, total: y, segments };
  });
}

/** Total per label over the whole range. */
export function labelTotals(counts: Counts): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const label of counts.labels) totals[label] = 0;
  for (const bucket of counts.buckets) {
    for (const [label, n] of Object.entries(bucket.counts)) totals[label] = (totals[label] ?? 0) + n;
  }
  return totals;
}

/** x and width of bar `index` of `n` bars across `width_px`, with `gap_ratio` of a band empty. */
export function band(index: number, n: number, width_px: number, gap_ratio = 0.2): { x: number; width: number } {
  if (n <= 0) return { x: 0, width: 0 };
  const step = width_px / n;
  const gap = Math.min(step * gap_ratio, 8);
  return { x: index * step + gap / 2, width: Math.max(step - gap, 1) };
}

/** Maps a count to a y pixel on an axis of height `height_px` whose top is `top`. */
export function countToY(count: number, top: number, height_px: number): number {
  if (top <= 0) return height_px;
  return height_px - (count / top) * height_px;
}

/** Bucket and range choices of the count charts (seconds, text). */
export const BUCKETS: readonly (readonly [number, string])[] = [
  [60, '1 minute'],
  [300, '5 minutes'],
  [900, '15 minutes'],
  [3600, '1 hour'],
  [21600, '6 hours'],
  [86400, '1 day'],
];
export const RANGES: readonly (readonly [number, string])[] = [
  [3600, 'last hour'],
  [6 * 3600, 'last 6 hours'],
  [24 * 3600, 'last 24 hours'],
  [7 * 24 * 3600, 'last 7 days'],
];
/** The count routes answer at most this many buckets. */
export const MAX_BUCKETS = 1000;

/** Why a range and bucket cannot be drawn (too many buckets), or null. */
export function bucketProblem(range_s: number, bucket_s: number): string | null {
  const n = Math.ceil(range_s / bucket_s);
  if (n <= MAX_BUCKETS) return null;
  return `That gives ${n} buckets; the server draws at most ${MAX_BUCKETS}. Choose a larger bucket or a shorter range.`;
}

/** A stable colour index (0..size-1) per series key, in the order keys are first seen. */
export function colourAssigner(size = 8): (key: string) => number {
  const colours = new Map<string, number>();
  return (key) => {
    if (!colours.has(key)) colours.set(key, colours.size % size);
    return colours.get(key) ?? 0;
  };
}

/** Runs of consecutive known values (a line is broken where a value is null). */
export function lineRuns(values: readonly (number | null)[]): { index: number; value: number }[][] {
  const runs: { index: number; value: number }[][] = [];
  let run: { index: number; value: number }[] = [];
  values.forEach((value, index) => {
    if (value === null) {
      if (run.length) runs.push(run);
      run = [];
    } else {
      run.push({ index, value });
    }
  });
  if (run.length) runs.push(run);
  return runs;
}
