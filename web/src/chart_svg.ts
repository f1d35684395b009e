// SVG drawing of the count charts (stacked bars per series over time), the speed line chart and
// the legend, shared by the Charts and Traffic pages. Scaling and layout come from chart.ts
// (pure, tested); this module only turns them into elements.

import { band, bucketProblem, countAxis, countToY, lineRuns, stackCounts } from './chart';
import { h, setStatus, svg } from './dom';
import { formatSpeed, formatTime } from './format';
import { tickLabel, timeTicks } from './timeline';
import type { Counts } from './types';

const WIDTH = 900;
const MARGIN = { left: 44, right: 12, top: 12, bottom: 28 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;

function frame(height: number, ariaLabel: string, extraClass = ''): { chart: SVGSVGElement; plot: SVGGElement; ih: number } {
  const chart = svg('svg', { class: `chart ${extraClass}`.trim(), viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': ariaLabel });
  const plot = svg('g', { transform: `translate(${MARGIN.left},${MARGIN.top})` });
  chart.appendChild(plot);
  return { chart, plot, ih: height - MARGIN.top - MARGIN.bottom };
}

function yAxis(plot: SVGGElement, axis: { top: number; ticks: number[] }, ih: number): void {
  for (const t of axis.ticks) {
    const y = countToY(t, axis.top, ih);
    plot.appendChild(svg('line', { class: 'grid', x1: 0, x2: PLOT_WIDTH, y1: y, y2: y }));
    plot.appendChild(svg('text', { class: 'tick-label', x: -6, y: y + 4, 'text-anchor': 'end' }, String(t)));
  }
}

/** Time ticks under the plot for `n` buckets of `bucket_ms` from `start`. */
function timeAxis(plot: SVGGElement, start: number, span: number, ih: number): void {
  const { step_ms, ticks } = timeTicks(start, start + span, 8, -new Date(start).getTimezoneOffset() * 60_000);
  for (const t of ticks) {
    const x = span > 0 ? ((t - start) / span) * PLOT_WIDTH : 0;
    plot.appendChild(svg('line', { class: 'tick', x1: x, x2: x, y1: ih, y2: ih + 4 }));
    plot.appendChild(svg('text', { class: 'tick-label', x, y: ih + 18, 'text-anchor': 'middle' }, tickLabel(t, step_ms)));
  }
  plot.appendChild(svg('line', { class: 'axis', x1: 0, x2: PLOT_WIDTH, y1: ih, y2: ih }));
}

/** Stacked bars of `counts`, one segment per label of `shown` (in that order). */
export function drawStackedBars(counts: Counts, shown: readonly string[], colour: (label: string) => number, ariaLabel: string): SVGSVGElement {
  const { chart, plot, ih } = frame(320, ariaLabel);
  const stacked = stackCounts(counts, shown);
  const axis = countAxis(Math.max(0, ...stacked.map((b) => b.total)), 5);
  yAxis(plot, axis, ih);
  stacked.forEach((bucket, i) => {
    const { x, width } = band(i, stacked.length, PLOT_WIDTH);
    for (const seg of bucket.segments) {
      const y1 = countToY(seg.y1, axis.top, ih);
      const y0 = countToY(seg.y0, axis.top, ih);
      plot.appendChild(
        svg('rect', { class: `bar series-${colour(seg.label)}`, x, y: y1, width, height: Math.max(0, y0 - y1) },
          svg('title', {}, `${formatTime(bucket.start_ms)}: ${seg.count} ${seg.label}`)),
      );
    }
  });
  const start = counts.buckets[0]?.start_ms ?? counts.from_ms;
  timeAxis(plot, start, counts.buckets.length * counts.bucket_ms, ih);
  return chart;
}

/**
 * One line per series of values per bucket (km/h), broken where a bucket has none, with a
 * point per value; x at the centre of the bucket's bar so it lines up with the bar chart.
 */
export function drawSpeedLines(
  start_ms: number,
  bucket_ms: number,
  n: number,
  lines: readonly { name: string; values: readonly (number | null)[] }[],
  colour: (name: string) => number,
  ariaLabel: string,
): SVGSVGElement {
  const { chart, plot, ih } = frame(220, ariaLabel, 'speed-chart');
  const max = Math.max(0, ...lines.flatMap((l) => l.values.map((v) => v ?? 0)));
  const axis = countAxis(max, 4);
  yAxis(plot, axis, ih);
  plot.appendChild(svg('text', { class: 'tick-label', x: 6, y: 14, 'text-anchor': 'start' }, 'km/h'));
  const centre = (i: number): number => {
    const { x, width } = band(i, n, PLOT_WIDTH);
    return x + width / 2;
  };
  for (const line of lines) {
    const c = colour(line.name);
    for (const run of lineRuns(line.values)) {
      const points = run.map((p) => `${centre(p.index).toFixed(1)},${countToY(p.value, axis.top, ih).toFixed(1)}`).join(' ');
      if (run.length > 1) plot.appendChild(svg('polyline', { class: `speed-line series-${c}`, points }));
      for (const p of run) {
        plot.appendChild(
          svg('circle', { class: `speed-point series-${c}`, cx: centre(p.index), cy: countToY(p.value, axis.top, ih), r: n > 200 ? 1.5 : 2.5 },
            svg('title', {}, `${formatTime(start_ms + p.index * bucket_ms)}: ${line.name} ${formatSpeed(p.value)}`)),
        );
      }
    }
  }
  timeAxis(plot, start_ms, n * bucket_ms, ih);
  return chart;
}

/** A legend entry: a checkbox that hides or shows series `key` (kept in `hidden`), then redraws. */
export function legendItem(key: string, text: string, colourIndex: number, hidden: Set<string>, redraw: () => void): HTMLLIElement {
  const id = `lg-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const box = h('input', { type: 'checkbox', id, checked: !hidden.has(key) });
  box.addEventListener('change', () => {
    if (box.checked) hidden.delete(key);
    else hidden.add(key);
    redraw();
  });
  return h('li', {}, box, h('label', { for: id }, h('span', { class: `swatch series-${colourIndex}`, 'aria-hidden': 'true' }), text));
}

/**
 * The time range and bucket chosen in a count page's selects (range ending now), or null after
 * showing in `status` why the server would refuse them (too many buckets).
 */
export function chosenRange(bucket: HTMLSelectElement, range: HTMLSelectElement, status: HTMLElement): { bucket_s: number; from: number; to: number } | null {
  const bucket_s = Number(bucket.value);
  const range_s = Number(range.value);
  const problem = bucketProblem(range_s, bucket_s);
  if (problem) {
    setStatus(status, 'error', problem);
    return null;
  }
  const to = Date.now();
  return { bucket_s, from: to - range_s * 1000, to };
}
