// Event search: filters, pages through `next_after`, snapshot thumbnails.

import { errorMessage, getJson } from '../api';
import { loadCameras, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { eventTypeText, formatTime, fromLocalInput, toLocalInput } from '../format';
import { may } from '../nav';
import { snapshotUrl } from '../sse';
import { EVENT_TYPES, type CustosEvent, type EventPage } from '../types';

const PAGE_SIZE = 50;

function field(id: string, label: string, control: HTMLElement): HTMLElement {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control);
}

export function renderEvents(root: HTMLElement, ctx: PageContext): () => void {
  const now = Date.now();
  const camera = h('select', { name: 'camera' }, h('option', { value: '', text: 'All cameras' }));
  const type = h('select', { name: 'type' }, h('option', { value: '', text: 'All types' }), ...EVENT_TYPES.map((t) => h('option', { value: t, text: eventTypeText(t) })));
  const label = h('input', { name: 'label', placeholder: 'e.g. person', maxlength: 128 });
  const zone = h('input', { name: 'zone', placeholder: 'zone or line name', maxlength: 128 });
  const from = h('input', { name: 'from', type: 'datetime-local', step: 1, value: toLocalInput(now - 3600_000) });
  const to = h('input', { name: 'to', type: 'datetime-local', step: 1, value: '' });
  const submit = h('button', { type: 'submit', text: 'Search' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Event filters' },
    field('ev-camera', 'Camera', camera),
    field('ev-type', 'Type', type),
    field('ev-label', 'Label', label),
    field('ev-zone', 'Zone', zone),
    field('ev-from', 'From', from),
    field('ev-to', 'To (empty: now)', to),
    h('div', { class: 'field actions' }, submit),
  );
  const status = statusLine('info');
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'data events', 'aria-label': 'Events' },
    h('thead', {}, h('tr', {}, ...['Snapshot', 'Time', 'Camera', 'Type', 'Label', 'Zone', 'Score', ''].map((t) => h('th', { scope: 'col', text: t })))),
    body,
  );
  const prev = h('button', { type: 'button', class: 'secondary', text: 'Previous page', disabled: true });
  const next = h('button', { type: 'button', class: 'secondary', text: 'Next page', disabled: true });
  const pageInfo = h('span', { class: 'muted' });
  append(root, h('h1', { id: 'page-title', text: 'Event search' }), form, status, table, h('div', { class: 'pager' }, prev, pageInfo, next));

  const names = new Map<string, string>();
  const canSnap = may(ctx.me, 'view_alerts');
  const canPlay = may(ctx.me, 'playback');
  // `after` of each page shown so far: pages[i] is the cursor that fetched page i.
  let pages: (string | null)[] = [null];
  let nextAfter: string | null = null;
  let filters: Record<string, string | number | null> = {};
  let stopped = false;

  const row = (e: CustosEvent): HTMLTableRowElement => {
    const url = snapshotUrl(e);
    const snap = url && canSnap
      ? h('img', { class: 'thumb', src: url, alt: `Snapshot of event ${e.id}`, loading: 'lazy' })
      : h('span', { class: 'muted small', text: url ? 'not for your role' : 'none' });
    const cameraName = names.get(e.camera) ?? e.camera;
    const play = canPlay
      ? h('a', { href: `/playback?camera=${encodeURIComponent(e.camera)}&from=${e.time_ms - 15_000}&to=${e.time_ms + 45_000}`, text: 'Play', 'aria-label': `Play the recording around event ${e.id}` })
      : null;
    return h(
      'tr',
      { 'data-event-id': e.id },
      h('td', {}, snap),
      h('td', {}, h('time', { datetime: new Date(e.time_ms).toISOString(), text: formatTime(e.time_ms) })),
      h('td', { text: cameraName }),
      h('td', { text: eventTypeText(e.type) + (e.direction ? ` (${e.direction})` : '') }),
      h('td', { text: e.label }),
      h('td', { text: e.zone ?? '' }),
      h('td', { class: 'num', text: e.score.toFixed(2) }),
      h('td', {}, play),
    );
  };

  const load = async (index: number): Promise<void> => {
    setStatus(status, 'info', 'Searching…');
    submit.disabled = true;
    try {
      const page = await getJson<EventPage>('/api/events', { ...filters, limit: PAGE_SIZE, after: pages[index] ?? null });
      if (stopped) return;
      clear(body);
      for (const e of page.events) body.appendChild(row(e));
      pages = pages.slice(0, index + 1);
      nextAfter = page.next_after;
      if (nextAfter) pages.push(nextAfter);
      prev.disabled = index === 0;
      next.disabled = nextAfter === null;
      pageInfo.textContent = `Page ${index + 1}`;
      root.setAttribute('data-page', String(index));
      setStatus(status, 'ok', page.events.length === 0 ? 'No events match.' : `${page.events.length} events on this page${nextAfter ? ', more on the next' : ''}.`);
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
    } finally {
      submit.disabled = false;
    }
  };
  let current = 0;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const fromMs = fromLocalInput(from.value);
    const toMs = fromLocalInput(to.value);
    if (fromMs !== null && toMs !== null && toMs <= fromMs) {
      setStatus(status, 'error', '"To" must be after "From".');
      return;
    }
    filters = { camera: camera.value, type: type.value, label: label.value.trim(), zone: zone.value.trim(), from: fromMs, to: toMs };
    pages = [null];
    current = 0;
    void load(0);
  });
  prev.addEventListener('click', () => {
    current = Math.max(0, current - 1);
    void load(current);
  });
  next.addEventListener('click', () => {
    if (nextAfter === null) return;
    current += 1;
    void load(current);
  });

  void loadCameras()
    .then((cameras) => {
      for (const c of cameras) {
        names.set(c.id, c.name);
        camera.appendChild(h('option', { value: c.id, text: c.name }));
      }
    })
    .catch((error: unknown) => setStatus(status, 'error', `Cannot load cameras: ${errorMessage(error)}`));
  form.requestSubmit();
  return () => {
    stopped = true;
  };
}
