// Counts over time per label (GET /api/stats/counts) as a stacked SVG bar chart.

import { errorMessage, getJson } from '../api';
import { BUCKETS, colourAssigner, labelTotals, RANGES } from '../chart';
import { chosenRange, drawStackedBars, legendItem } from '../chart_svg';
import { loadCameras, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { eventTypeText, formatTime } from '../format';
import { field } from '../forms';
import { EVENT_TYPES, type Counts } from '../types';

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
  const colour = colourAssigner();
  let stopped = false;

  const draw = (): void => {
    clear(chartBox);
    clear(legend);
    if (!counts) return;
    const totals = labelTotals(counts);
    for (const label of counts.labels) legend.appendChild(legendItem(label, `${label} (${totals[label] ?? 0})`, colour(label), hidden, draw));
    const shown = counts.labels.filter((l) => !hidden.has(l));
    chartBox.appendChild(drawStackedBars(counts, shown, colour, `Counts of ${eventTypeText(counts.type)} events per ${counts.bucket_ms / 60000} min, per label`));
  };

  const load = async (): Promise<void> => {
    const chosen = chosenRange(bucket, range, status);
    if (!chosen) return;
    setStatus(status, 'info', 'Loading…');
    try {
      const answer = await getJson<Counts>('/api/stats/counts', { camera: camera.value, type: type.value, ...chosen });
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
