// The public transparency page (DESIGN.md §1.7), opened without login: the camera register as
// a table and on the map, current figures, monthly statistics, and the audit log's latest
// signed checkpoint with how an outsider verifies it.

import L from 'leaflet';
import { ApiError, errorMessage, getJson } from '../api';
import { band, countAxis, countToY } from '../chart';
import type { Cleanup } from '../context';
import { append, clear, h, setStatus, statusLine, svg } from '../dom';
import { formatTime } from '../format';
import { actText, shortList } from '../policy';
import { capabilityList, CURRENT_FIGURES, MONTH_METRICS, monthBars, monthLabel, parseCheckpoint, retentionText, type MonthMetric } from '../stats';
import type { PublicCheckpoint, PublicStats, Register, RegisterCamera, UiConfig } from '../types';

export interface TransparencyOptions {
  ui: UiConfig;
  signedIn: boolean;
}

function section(id: string, title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { class: 'tp-section', 'aria-labelledby': id }, h('h2', { id, text: title }), ...children);
}

function yesNo(on: boolean, onText: string, offText: string): HTMLElement {
  return h('span', { class: `pill ${on ? 'cap-on' : 'cap-off'}`, text: on ? onText : offText });
}

function registerRow(c: RegisterCamera): HTMLTableRowElement {
  const bases = c.legal_bases ?? [];
  const basesCell = bases.length
    ? h(
        'ul',
        { class: 'plain' },
        ...bases.map((b) =>
          h(
            'li',
            {},
            h('strong', { text: b.reference }),
            ` (${b.type.replace(/_/g, ' ')}, ${b.issuing_authority}) `,
            h('span', { class: 'muted small', text: `${shortList(b.acts.map(actText), 'all acts', 3)}; until ${formatTime(b.expires_ms)}` }),
          ),
        ),
      )
    : h('span', { class: 'muted', text: 'none in force' });
  const loc = c.location ? `${c.location.lat.toFixed(5)}, ${c.location.lon.toFixed(5)}` : 'not given';
  return h(
    'tr',
    { 'data-camera': c.id },
    h('th', { scope: 'row' }, c.name, h('div', { class: 'muted small', text: c.id }), c.enabled ? null : h('div', { class: 'small', text: 'disabled' })),
    h('td', { text: c.purpose ?? 'not stated' }),
    h('td', { class: 'small', text: loc }),
    h('td', { text: c.recording ?? 'not stated' }),
    h('td', { class: 'small', text: retentionText(c.retention) }),
    h('td', { class: 'small', text: capabilityList(c).join('; ') }),
    h('td', {}, yesNo(c.capabilities.face_recognition, 'On', 'Off')),
    h('td', {}, yesNo(c.capabilities.plate_recognition, 'On', 'Off')),
    h('td', { class: 'small' }, basesCell),
  );
}

function drawMonthChart(stats: PublicStats, metric: MonthMetric, title: string): SVGSVGElement | HTMLElement {
  const bars = monthBars(stats.months, metric);
  if (bars.length === 0) return h('p', { class: 'muted', text: 'No months with recorded activity yet.' });
  const W = 900;
  const H = 260;
  const M = { left: 44, right: 12, top: 12, bottom: 30 };
  const w = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const axis = countAxis(Math.max(0, ...bars.map((b) => b.value)), 5);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title} per month, ${monthLabel(bars[0]?.month ?? '')} to ${monthLabel(bars[bars.length - 1]?.month ?? '')}` });
  const plot = svg('g', { transform: `translate(${M.left},${M.top})` });
  chart.appendChild(plot);
  for (const t of axis.ticks) {
    const y = countToY(t, axis.top, ih);
    plot.appendChild(svg('line', { class: 'grid', x1: 0, x2: w, y1: y, y2: y }));
    plot.appendChild(svg('text', { class: 'tick-label', x: -6, y: y + 4, 'text-anchor': 'end' }, String(t)));
  }
  const every = Math.ceil(bars.length / 12);
  // At least 12 slots, newest at the right, so a young installation does not get huge bars.
  const slots = Math.max(bars.length, 12);
  bars.forEach((bar, i) => {
    const { x, width } = band(i + slots - bars.length, slots, w);
    const y = countToY(bar.value, axis.top, ih);
    plot.appendChild(svg('rect', { class: 'bar series-0', x, y, width, height: Math.max(0, ih - y) }, svg('title', {}, `${monthLabel(bar.month)}: ${bar.value}`)));
    if (i % every === 0) plot.appendChild(svg('text', { class: 'tick-label', x: x + width / 2, y: ih + 18, 'text-anchor': 'middle' }, monthLabel(bar.month)));
  });
  plot.appendChild(svg('line', { class: 'axis', x1: 0, x2: w, y1: ih, y2: ih }));
  return chart;
}

export function renderTransparency(root: HTMLElement, options: TransparencyOptions): Cleanup {
  let stopped = false;

  // ---- Register: map and table ----
  const registerStatus = statusLine('info', 'Loading the camera register…');
  const mapBox = h('div', { class: 'map tp-map', id: 'register-map', role: 'region', 'aria-label': 'Map of registered cameras' });
  const registerBody = h('tbody');
  const registerTable = h(
    'table',
    { class: 'data register', 'aria-label': 'Camera register' },
    h('thead', {}, h('tr', {}, ...['Camera', 'Purpose', 'Location', 'Recording', 'Retention', 'Analytics', 'Face recognition', 'Plate recognition', 'Legal bases in force'].map((t) => h('th', { scope: 'col', text: t })))),
    registerBody,
  );
  const operator = h('p', { class: 'muted' });
  const mapNote = h('p', { class: 'muted small' });

  // ---- Figures and statistics ----
  const figuresStatus = statusLine('info', 'Loading statistics…');
  const figures = h('dl', { class: 'figures', 'aria-label': 'Current figures' });
  const monthsBody = h('tbody');
  const monthsTable = h(
    'table',
    { class: 'data months', 'aria-label': 'Monthly statistics' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Month' }), ...MONTH_METRICS.map(([, t]) => h('th', { scope: 'col', class: 'num', text: t })))),
    monthsBody,
  );
  const metric = h('select', { id: 'tp-metric', name: 'metric' }, ...MONTH_METRICS.map(([k, t]) => h('option', { value: k, text: t })));
  metric.value = 'searches';
  const chartBox = h('div', { class: 'chart-box' });

  // ---- Checkpoint ----
  const checkpointStatus = statusLine('info', 'Loading the latest signed checkpoint…');
  const checkpointBox = h('div', { class: 'checkpoint' });

  append(
    root,
    h('h1', { id: 'page-title', text: 'Transparency' }),
    h(
      'p',
      { class: 'lead' },
      `${options.ui.site_name} publishes every camera it runs, what each camera is able to do and on what legal basis, how long it keeps what it records, and how often the system was used. Everything here is public and needs no login.`,
    ),
    section(
      'tp-register',
      'Camera register',
      operator,
      h('p', {}, 'Download: ', h('a', { href: '/public/register.json', text: 'register.json' }), ' · ', h('a', { href: '/public/register.csv', text: 'register.csv' }), ' · ', h('a', { href: '/public/stats.json', text: 'stats.json' })),
      registerStatus,
      h('div', { class: 'tp-map-layout' }, mapBox, h('div', { class: 'legend-box' }, h('p', { class: 'small' }, h('span', { class: 'legend-dot face-off', 'aria-hidden': 'true' }), ' face recognition off'), h('p', { class: 'small' }, h('span', { class: 'legend-dot face-on', 'aria-hidden': 'true' }), ' face recognition on (an authorisation is in force)'), mapNote)),
      h('div', { class: 'table-scroll' }, registerTable),
      h(
        'p',
        { class: 'muted small' },
        'Face recognition is off by default. It runs only on cameras and in time windows covered by an authorisation in force, never inside a declared protected assembly (demonstration, place of worship, polling station), and only against watchlist entries a second person approved. Faces of passers-by are never stored.',
      ),
    ),
    section('tp-figures', 'Current figures', figuresStatus, figures),
    section(
      'tp-months',
      'Monthly statistics',
      h('p', { class: 'muted small', text: 'Counted from the tamper-evident audit log. Refusals are acts the system refused (no permission, no legal basis, four eyes).' }),
      h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'tp-metric', text: 'Chart' }), metric)),
      chartBox,
      h('div', { class: 'table-scroll' }, monthsTable),
    ),
    section(
      'tp-checkpoint',
      'Audit log: latest signed checkpoint',
      h(
        'p',
        {},
        'Every login, live view, playback, search, plate query, export, approval, policy change and deletion is appended to a Merkle-tree log. About once a minute the server signs the log’s size and root hash. Keep a copy of a checkpoint: whoever holds one can later check, without trusting this server, that an entry is in the log and that the log was not rewritten.',
      ),
      checkpointStatus,
      checkpointBox,
    ),
  );

  const { tile_url, attribution, center, zoom } = options.ui.map;
  const map = L.map(mapBox, { center: center ?? [0, 0], zoom: center ? zoom : 2, attributionControl: tile_url !== '' });
  if (tile_url) L.tileLayer(tile_url, { attribution, maxZoom: 19 }).addTo(map);
  else mapBox.classList.add('map-offline');
  const resize = window.setTimeout(() => map.invalidateSize(), 0);

  let stats: PublicStats | null = null;
  const drawChart = (): void => {
    clear(chartBox);
    if (!stats) return;
    const title = MONTH_METRICS.find(([k]) => k === metric.value)?.[1] ?? metric.value;
    chartBox.appendChild(drawMonthChart(stats, metric.value as MonthMetric, title));
  };
  metric.addEventListener('change', drawChart);

  void (async () => {
    try {
      const reg = await getJson<Register>('/public/register.json');
      if (stopped) return;
      operator.textContent = reg.operator ? `Operated by ${reg.operator}. Register generated ${formatTime(reg.generated_ms)}.` : `Register generated ${formatTime(reg.generated_ms)}.`;
      clear(registerBody);
      if (reg.cameras.length === 0) {
        registerBody.appendChild(h('tr', {}, h('td', { colspan: 9, class: 'muted', text: 'No cameras are registered. A camera that is not in the register cannot run.' })));
      }
      const located: [number, number][] = [];
      let markers = 0;
      for (const c of reg.cameras) {
        registerBody.appendChild(registerRow(c));
        if (!c.location) continue;
        const marker = L.circleMarker([c.location.lat, c.location.lon], {
          radius: 9,
          weight: 2,
          className: `camera-marker register-marker ${c.capabilities.face_recognition ? 'face-on' : 'face-off'}`,
          fillOpacity: 0.9,
        });
        marker.bindTooltip(h('span', { text: `${c.name}: face recognition ${c.capabilities.face_recognition ? 'on' : 'off'}` }), { direction: 'top', offset: [0, -8] });
        marker.addTo(map);
        const el = marker.getElement();
        el?.setAttribute('data-camera', c.id);
        el?.setAttribute('aria-label', `${c.name}: face recognition ${c.capabilities.face_recognition ? 'on' : 'off'}`);
        located.push([c.location.lat, c.location.lon]);
        markers += 1;
      }
      if (located.length === 1 && located[0]) map.setView(located[0], Math.max(zoom, 15), { animate: false });
      else if (located.length > 1) map.fitBounds(L.latLngBounds(located), { padding: [40, 40], maxZoom: 17, animate: false });
      const missing = reg.cameras.length - markers;
      mapNote.textContent = missing > 0 ? `${missing} camera(s) have no published location and are not on the map.` : '';
      root.setAttribute('data-register-cameras', String(reg.cameras.length));
      setStatus(registerStatus, 'ok', `${reg.cameras.length} cameras in the register, ${reg.cameras.filter((c) => c.capabilities.face_recognition).length} with face recognition on now.`);
    } catch (error) {
      setStatus(registerStatus, 'error', `The camera register cannot be loaded: ${errorMessage(error)}`);
    }
  })();

  void (async () => {
    try {
      stats = await getJson<PublicStats>('/public/stats.json');
      if (stopped) return;
      clear(figures);
      for (const [key, text] of CURRENT_FIGURES) {
        append(figures, h('div', { class: 'figure' }, h('dt', { text }), h('dd', { text: String(stats.current[key] ?? 0) })));
      }
      clear(monthsBody);
      if (stats.months.length === 0) {
        monthsBody.appendChild(h('tr', {}, h('td', { colspan: MONTH_METRICS.length + 1, class: 'muted', text: 'No activity recorded yet.' })));
      }
      for (const m of stats.months) {
        monthsBody.appendChild(h('tr', {}, h('th', { scope: 'row', text: monthLabel(m.month) }), ...MONTH_METRICS.map(([k]) => h('td', { class: 'num', text: String(m[k] ?? 0) }))));
      }
      drawChart();
      setStatus(figuresStatus, 'ok', `As of ${formatTime(stats.generated_ms)}.`);
    } catch (error) {
      setStatus(figuresStatus, 'error', `The statistics cannot be loaded: ${errorMessage(error)}`);
      monthsBody.appendChild(h('tr', {}, h('td', { colspan: MONTH_METRICS.length + 1, class: 'muted', text: 'Not available.' })));
    }
  })();

  void (async () => {
    try {
      const cp = await getJson<PublicCheckpoint>('/public/checkpoint');
      if (stopped) return;
      const parsed = parseCheckpoint(cp.checkpoint);
      append(
        checkpointBox,
        h('p', {}, `Tree size ${cp.size}`, parsed ? `, log ${parsed.origin}` : '', '. ', h('a', { href: '/public/checkpoint', text: 'checkpoint as JSON' })),
        h('pre', { class: 'note', id: 'checkpoint-note', 'aria-label': 'Signed checkpoint', tabindex: 0, text: cp.checkpoint }),
        h('p', {}, 'Verifier key (the public key that checks the signature; compare it with the one the operator published elsewhere):'),
        h('pre', { class: 'note', id: 'verifier-key', 'aria-label': 'Verifier key', tabindex: 0, text: cp.verifier_key }),
      );
      setStatus(checkpointStatus, 'ok', '');
      root.setAttribute('data-checkpoint-size', String(cp.size));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        append(checkpointBox, h('p', { class: 'notice', id: 'no-checkpoint', text: 'No checkpoint yet: the audit log has not been signed since it was created. The server signs one every minute; reload this page shortly.' }));
        setStatus(checkpointStatus, 'ok', '');
        root.setAttribute('data-checkpoint-size', 'none');
      } else {
        setStatus(checkpointStatus, 'error', `The checkpoint cannot be loaded: ${errorMessage(error)}`);
      }
    }
    append(
      checkpointBox,
      h('h3', { text: 'How to verify, without trusting this server' }),
      h(
        'ol',
        { class: 'steps' },
        h('li', {}, 'Save the checkpoint and the verifier key above, with the date you fetched them. Compare the key with the one the operator published elsewhere (a notice, the data protection authority).'),
        h('li', {}, 'To check that an entry is in the log (for example the record of a plate query a court asked about), get the entry’s exact bytes and its inclusion proof against your checkpoint from the operator (', h('code', { text: 'custos audit prove ENTRY --size N' }), ').'),
        h('li', {}, 'To check that the log was not rewritten between two checkpoints you hold (sizes N < M), fetch ', h('code', { text: '/public/audit/consistency?from=N&to=M' }), '.'),
        h('li', {}, 'Run the independent verifier, one Go file using only the standard library: ', h('code', { text: 'go run tools/verify_inclusion.go -key verifier.key -checkpoint checkpoint -entry entry.json -proof proof.json' }), ' (or ', h('code', { text: '-old checkpoint-N -new checkpoint-M -consistency consistency.json' }), ').'),
      ),
      h('p', { class: 'muted small' }, 'The formats and what the log does and does not protect against are described in ', h('code', { text: 'docs/audit.md' }), ' of the Custos source.'),
    );
  })();

  if (!options.signedIn) {
    append(root, h('p', { class: 'muted' }, 'Staff: ', h('a', { href: '/login', text: 'log in to the command centre' }), '.'));
  }

  return () => {
    stopped = true;
    window.clearTimeout(resize);
    map.stop();
    map.remove();
  };
}
