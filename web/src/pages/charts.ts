// Counts over time per label (GET /api/stats/counts) as a stacked SVG bar chart.

import { errorMessage, getJson } from '../api';
import { band, countAxis, countToY, labelTotals, stackCounts } from '../chart';
import { loadCameras, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine, svg } from '../dom';
import { eventTypeText, formatTime } from '../format';
import { tickLabel, timeTicks } from '../timeline';
import { EVENT_TYPES, type Counts } from '../types';

const BUCKETS: readonly [number, string][] = [
  [60, '1 minute'],
  [300, '5 minutes'],
  [900, '15 minutes'],
  [3600, '1 hour'],
  [21600, '6 hours'],
  [86400, '1 day'],
];
const RANGES: readonly [number, string][] = [
  [3600, 'last hour'],
  [6 * 3600, 'last 6 hours'],
  [24 * 3600, 'last 24 hours'],
  [7 * 24 * 3600, 'last 7 days'],
];
const MAX_BUCKETS = 1000;
const PALETTE_SIZE = 8;

function field(id: string, label: string, control: HTMLElement): HTMLElement {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control);
}

function drawChart(counts: Counts, labels: readonly string[], colour: (label: string) => number): SVGSVGElement {
  const W = 900;
  const H = 320;
  const M = { left: 44, right: 12, top: 12, bottom: 28 };
  const w = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const stacked = stackCounts(counts, labels);
  const max = Math.max(0, ...stacked.map((b) => b.total));
  const axis = countAxis(max, 5);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Counts of ${eventTypeText(counts.type)} events per ${counts.bucket_ms / 60000} min, per label` });
  const plot = svg('g', { transform: `translate(${M.left},${M.top})` });
  chart.appendChild(plot);
  for (const t of axis.ticks) {
    const y = countToY(t, axis.top, ih);
    plot.appendChild(svg('line', { class: 'grid', x1: 0, x2: w, y1: y, y2: y }));
    plot.appendChild(svg('text', { class: 'tick-label', x: -6, y: y + 4, 'text-anchor': 'end' }, String(t)));
  }
  stacked.forEach((bucket, i) => {
    const { x, width } = band(i, stacked.length, w);
    for (const seg of bucket.segments) {
      const y1 = countToY(seg.y1, axis.top, ih);
      const y0 = countToY(seg.y0, axis.top, ih);
      plot.appendChild(
        svg('rect', { class: `bar series-${colour(seg.label)}`, x, y: y1, width, height: Math.max(0, y0 - y1) },
          svg('title', {}, `${formatTime(bucket.start_ms)}: ${seg.count} ${seg.label}`)),
      );
    }
  });
  const span = counts.buckets.length * counts.bucket_ms;
  const start = counts.buckets[0]?.start_ms ?? counts.from_ms;
  const { step_ms, ticks } = timeTicks(start, start + span, 8, -new Date(start).getTimezoneOffset() * 60_000);
  for (const t of ticks) {
    const x = span > 0 ? ((t - start) / span) * w : 0;
    plot.appendChild(svg('line', { class: 'tick', x1: x, x2: x, y1: ih, y2: ih + 4 }));
    plot.appendChild(svg('text', { class: 'tick-label', x, y: ih + 18, 'text-anchor': 'middle' }, tickLabel(t, step_ms)));
  }
  plot.appendChild(svg('line', { class: 'axis', x1: 0, x2: w, y1: ih, y2: ih }));
  return chart;
}

export function renderCharts(root: HTMLElement, _ctx: PageContext): () => void {
  const camera = h('select', { name: 'camera' }, h('option', { value: '', text: 'All cameras' }));
  const type = h('select', { name: 'type' }, ...EVENT_TYPES.map((t) => h('option', { value: t, text: eventTypeText(t) })));
  const bucket = h('select', { name: 'bucket' }, ...BUCKETS.map(([s, t]) => h('option', { value: s, text: t })));
  const range = h('select', { name: 'range' }, ...RANGES.map(([s, t]) => h('option', { value: s, text: t })));
  bucket.value = '900';
  range.value = String(24 * 3600);
  const form = h('form', { class: 'filters', 'aria-label': 'Chart options' }, field('ch-camera', 'Camera', camera), field('ch-type', 'Event type', type), field('ch-bucket', 'Bucket', bucket), field('ch-range', 'Range', range), h('div', { class: 'field actions' }, h('button', { type: 'submit', text: 'Update' })));
  const status = statusLine('info');
  const chartBox = h('div', { class: 'chart-box' });
  const legend = h('ul', { class: 'legend', 'aria-label': 'Labels' });
  append(root, h('h1', { id: 'page-title', text: 'Counts' }), form, status, legend, chartBox);

  let counts: Counts | null = null;
  const hidden = new Set<string>();
  const colours = new Map<string, number>();
  const colour = (label: string): number => {
    if (!colours.has(label)) colours.set(label, colours.size % PALETTE_SIZE);
    return colours.get(label) ?? 0;
  };
  let stopped = false;

  const draw = (): void => {
    clear(chartBox);
    clear(legend);
    if (!counts) return;
    const totals = labelTotals(counts);
    for (const label of counts.labels) {
      const id = `lg-${label.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      const box = h('input', { type: 'checkbox', id, checked: !hidden.has(label) });
      box.addEventListener('change', () => {
        if (box.checked) hidden.delete(label);
        else hidden.add(label);
        draw();
      });
      legend.appendChild(h('li', {}, box, h('label', { for: id }, h('span', { class: `swatch series-${colour(label)}`, 'aria-hidden': 'true' }), `${label} (${totals[label] ?? 0})`)));
    }
    const shown = counts.labels.filter((l) => !hidden.has(l));
    chartBox.appendChild(drawChart(counts, shown, colour));
  };

  const load = async (): Promise<void> => {
    const bucketS = Number(bucket.value);
    const rangeS = Number(range.value);
    if (rangeS / bucketS > MAX_BUCKETS) {
      setStatus(status, 'error', `That gives ${Math.ceil(rangeS / bucketS)} buckets; the server draws at most ${MAX_BUCKETS}. Choose a larger bucket or a shorter range.`);
      return;
    }
    const to = Date.now();
    setStatus(status, 'info', 'Loading…');
    try {
      const answer = await getJson<Counts>('/api/stats/counts', { camera: camera.value, type: type.value, bucket_s: bucketS, from: to - rangeS * 1000, to });
      if (stopped) return;
      counts = answer;
      const total = Object.values(labelTotals(answer)).reduce((a, b) => a + b, 0);
      setStatus(status, 'ok', `${total} ${eventTypeText(answer.type)} events from ${formatTime(answer.from_ms)} to ${formatTime(answer.to_ms)}`);
      draw();
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  void loadCameras()
    .then((cameras) => {
      for (const c of cameras) camera.appendChild(h('option', { value: c.id, text: c.name }));
    })
    .catch(() => undefined);
  void load();
  return () => {
    stopped = true;
  };
}
