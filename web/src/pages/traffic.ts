// Traffic (docs/traffic.md): vehicle counts per counting line, direction and class over time
// (GET /api/traffic/counts) as stacked bars, the mean speed per bucket as lines marked advisory,
// and the recent wrong-way and stopped-vehicle events of the camera with their snapshots.

import { errorMessage, getJson } from '../api';
import { BUCKETS, colourAssigner, labelTotals, RANGES } from '../chart';
import { chosenRange, drawSpeedLines, drawStackedBars, legendItem } from '../chart_svg';
import { loadCameras, type Cleanup, type PageContext } from '../context';
import { append, clear, h, setStatus, statusLine } from '../dom';
import { eventDetails, eventTypeText, formatSpeed, formatTime, SPEED_ADVISORY_TEXT } from '../format';
import { field } from '../forms';
import { may } from '../nav';
import { snapshotUrl } from '../sse';
import { hasSpeeds, meanSpeed, seriesName, speedValues, trafficLines, trafficToCounts, type TrafficCounts } from '../traffic';
import type { Camera, CustosEvent, EventPage } from '../types';

const TRAFFIC_EVENT_TYPES = ['wrong_way', 'stopped_vehicle'] as const;
const EVENTS_SHOWN = 100;
const EVENT_PAGES = 5;

/** Events of `type` on `camera` in [from, to), following `next_after` for a few pages. */
async function eventsOf(type: string, camera: string, from: number, to: number): Promise<{ events: CustosEvent[]; complete: boolean }> {
  const events: CustosEvent[] = [];
  let after: string | null = null;
  for (let page = 0; page < EVENT_PAGES; page += 1) {
    const answer: EventPage = await getJson<EventPage>('/api/events', { type, camera, from, to, limit: 1000, after });
    events.push(...answer.events);
    after = answer.next_after;
    if (after === null) return { events, complete: true };
  }
  return { events, complete: false };
}

export function renderTraffic(root: HTMLElement, ctx: PageContext): Cleanup {
  const params = new URLSearchParams(window.location.search);
  const camera = h('select', { name: 'camera' });
  const line = h('select', { name: 'line' }, h('option', { value: '', text: 'All lines' }));
  const bucket = h('select', { name: 'bucket' }, ...BUCKETS.map(([s, t]) => h('option', { value: s, text: t })));
  const range = h('select', { name: 'range' }, ...RANGES.map(([s, t]) => h('option', { value: s, text: t })));
  bucket.value = '900';
  range.value = String(24 * 3600);
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Traffic options' },
    field('tr-camera', 'Camera', camera),
    field('tr-line', 'Counting line', line),
    field('tr-bucket', 'Bucket', bucket),
    field('tr-range', 'Range', range),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', text: 'Update' })),
  );
  const status = statusLine('info', 'Loading cameras…');
  status.id = 'traffic-status';
  const legend = h('ul', { class: 'legend', 'aria-label': 'Series: line, direction, vehicle class' });
  const chartBox = h('div', { class: 'chart-box' });
  const speedNote = h('p', { class: 'muted small' });
  const speedBox = h('div', { class: 'chart-box' });
  const eventsStatus = statusLine('info');
  eventsStatus.id = 'traffic-events-status';
  const eventsBody = h('tbody');
  append(
    root,
    h('h1', { id: 'page-title', text: 'Traffic' }),
    form,
    status,
    legend,
    chartBox,
    h('h2', {}, 'Mean speed per bucket ', h('span', { class: 'advisory', text: 'advisory' })),
    h('p', { class: 'notice', text: `${SPEED_ADVISORY_TEXT} They are approximate, depend on how well the camera was calibrated, and must not be used to prove a speed or to fine anyone.` }),
    speedNote,
    speedBox,
    h('h2', { text: 'Wrong-way and stopped vehicles' }),
    eventsStatus,
    h(
      'div',
      { class: 'table-scroll' },
      h('table', { class: 'data', 'aria-label': 'Wrong-way and stopped-vehicle events' }, h('thead', {}, h('tr', {}, ...['Snapshot', 'Time', 'Type', 'Vehicle', 'Details', ''].map((t) => h('th', { scope: 'col', text: t })))), eventsBody),
    ),
  );

  let cameras: Camera[] = [];
  let answer: TrafficCounts | null = null;
  const linesByCamera = new Map<string, Set<string>>();
  const hidden = new Set<string>();
  const colour = colourAssigner();
  let stopped = false;
  let generation = 0;

  const setLines = (cam: string, chosen: string): void => {
    clear(line);
    line.appendChild(h('option', { value: '', text: 'All lines' }));
    for (const l of linesByCamera.get(cam) ?? []) line.appendChild(h('option', { value: l, text: l }));
    line.value = [...(linesByCamera.get(cam) ?? [])].includes(chosen) ? chosen : '';
  };

  const draw = (): void => {
    clear(legend);
    clear(chartBox);
    clear(speedBox);
    if (!answer) return;
    const t = answer;
    const counts = trafficToCounts(t);
    const totals = labelTotals(counts);
    t.series.forEach((s, i) => {
      const name = seriesName(s);
      const mean = meanSpeed(t, i);
      legend.appendChild(legendItem(name, `${name} (${totals[name] ?? 0})${mean === null ? '' : ` · mean ${formatSpeed(mean)}`}`, colour(name), hidden, draw));
    });
    const shown = counts.labels.filter((l) => !hidden.has(l));
    const minutes = t.bucket_ms / 60_000;
    chartBox.appendChild(drawStackedBars(counts, shown, colour, `Vehicles counted per ${minutes} min at camera ${t.camera}, stacked by line, direction and class`));
    if (!hasSpeeds(t)) {
      speedNote.textContent = 'No speeds in this range: the camera has no ground calibration, or no vehicle had a path long enough to measure.';
      return;
    }
    speedNote.textContent = 'Mean speed of the vehicles of each series that had a measurable path; a gap is a bucket without one.';
    const lines = t.series.map((s, i) => ({ name: seriesName(s), values: speedValues(t, i) })).filter((l) => !hidden.has(l.name));
    speedBox.appendChild(drawSpeedLines(t.buckets[0]?.start_ms ?? t.from_ms, t.bucket_ms, t.buckets.length, lines, colour, `Advisory mean speed in km/h per ${minutes} min at camera ${t.camera}, per series`));
  };

  const loadEvents = async (cam: string, from: number, to: number, gen: number): Promise<void> => {
    clear(eventsBody);
    if (!may(ctx.me, 'search_events')) {
      setStatus(eventsStatus, 'info', 'Listing stored events needs event search (investigators and supervisors). Wrong-way and stopped-vehicle alerts reach you live on the Alerts page.');
      return;
    }
    setStatus(eventsStatus, 'info', 'Loading events…');
    try {
      const found = await Promise.all(TRAFFIC_EVENT_TYPES.map((type) => eventsOf(type, cam, from, to)));
      if (stopped || gen !== generation) return;
      const events = found.flatMap((f) => f.events).sort((a, b) => (a.id < b.id ? 1 : -1));
      for (const e of events.slice(0, EVENTS_SHOWN)) eventsBody.appendChild(eventRow(e));
      const complete = found.every((f) => f.complete);
      setStatus(eventsStatus, 'ok', events.length === 0 ? 'No wrong-way or stopped vehicle in this range.' : `${events.length}${complete ? '' : '+'} events${events.length > EVENTS_SHOWN ? `, the newest ${EVENTS_SHOWN} shown` : ''}.`);
    } catch (error) {
      setStatus(eventsStatus, 'error', errorMessage(error));
    }
  };

  const eventRow = (e: CustosEvent): HTMLTableRowElement => {
    const url = snapshotUrl(e);
    const snap = url
      ? h('a', { href: url, target: '_blank', rel: 'noopener', 'aria-label': `Snapshot of event ${e.id}` }, h('img', { class: 'thumb', src: url, alt: '', loading: 'lazy' }))
      : h('span', { class: 'muted small', text: 'none' });
    const play = may(ctx.me, 'playback')
      ? h('a', { href: `/playback?camera=${encodeURIComponent(e.camera)}&from=${e.time_ms - 15_000}&to=${e.time_ms + 45_000}`, text: 'Play' })
      : null;
    return h(
      'tr',
      { 'data-event-id': e.id, class: `type-${e.type}` },
      h('td', {}, snap),
      h('td', {}, h('time', { datetime: new Date(e.time_ms).toISOString(), text: formatTime(e.time_ms) })),
      h('td', {}, h('span', { class: `pill event-${e.type}`, text: eventTypeText(e.type) })),
      h('td', { text: e.label }),
      h('td', { class: 'small', text: eventDetails(e) }),
      h('td', {}, play),
    );
  };


  /** Loads the chosen camera; `auto`: when it has no vehicle lines, try the next cameras. */
  const load = async (auto: boolean): Promise<void> => {
    const chosen = chosenRange(bucket, range, status);
    if (!chosen) return;
    const { from, to } = chosen;
    const gen = ++generation;
    const order = auto ? [camera.value, ...cameras.map((c) => c.id).filter((id) => id !== camera.value)] : [camera.value];
    setStatus(status, 'info', 'Loading…');
    try {
      let got: TrafficCounts | null = null;
      for (const cam of order) {
        let t: TrafficCounts;
        try {
          t = await getJson<TrafficCounts>('/api/traffic/counts', { camera: cam, line: auto ? '' : line.value, ...chosen });
        } catch (error) {
          // Looking for a camera with vehicle lines: one that cannot answer is passed over.
          if (auto && cam !== order[order.length - 1]) continue;
          throw error;
        }
        if (stopped || gen !== generation) return;
        if (t.series.length > 0 || !auto) {
          got = t;
          break;
        }
      }
      if (!got) {
        answer = null;
        draw();
        setStatus(status, 'info', 'No camera has a vehicle counting line (docs/traffic.md says how to configure one).');
        return;
      }
      const t = got;
      camera.value = t.camera;
      const known = linesByCamera.get(t.camera) ?? new Set<string>();
      for (const l of trafficLines(t)) known.add(l);
      linesByCamera.set(t.camera, known);
      setLines(t.camera, line.value);
      answer = t;
      draw();
      window.history.replaceState(null, '', `/traffic?camera=${encodeURIComponent(t.camera)}${line.value ? `&line=${encodeURIComponent(line.value)}` : ''}`);
      const total = t.buckets.reduce((sum, b) => sum + b.counts.reduce((a, n) => a + n, 0), 0);
      const name = cameras.find((c) => c.id === t.camera)?.name ?? t.camera;
      setStatus(
        status,
        'ok',
        t.series.length === 0
          ? `${name} has no vehicle counting line.`
          : `${total} vehicles at ${name}${line.value ? `, line ${line.value}` : ''} from ${formatTime(t.from_ms)} to ${formatTime(t.to_ms)}`,
      );
      void loadEvents(t.camera, from, to, gen);
    } catch (error) {
      setStatus(status, 'error', errorMessage(error));
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load(false);
  });
  camera.addEventListener('change', () => {
    setLines(camera.value, '');
    void load(false);
  });
  line.addEventListener('change', () => void load(false));

  void loadCameras()
    .then((list) => {
      if (stopped) return;
      cameras = list;
      for (const c of list) camera.appendChild(h('option', { value: c.id, text: c.name }));
      const wanted = params.get('camera');
      if (wanted && list.some((c) => c.id === wanted)) {
        camera.value = wanted;
        const wantedLine = params.get('line');
        if (wantedLine) {
          linesByCamera.set(wanted, new Set([wantedLine]));
          setLines(wanted, wantedLine);
        }
        void load(false);
      } else if (list.length === 0) {
        setStatus(status, 'info', 'No cameras are configured.');
      } else {
        void load(true);
      }
    })
    .catch((error: unknown) => setStatus(status, 'error', `Cannot load cameras: ${errorMessage(error)}`));
  return () => {
    stopped = true;
  };
}
