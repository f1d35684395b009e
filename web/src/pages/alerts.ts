// Alerts feed over Server-Sent Events (GET /api/events/stream), newest first.

import { getJson, withQuery } from '../api';
import { loadCameras, type PageContext } from '../context';
import { append, clear, h } from '../dom';
import { eventDetails, eventTypeText, formatTime } from '../format';
import { may } from '../nav';
import { addAlert, parseDroppedData, parseEventData, reconnectDelayMs, snapshotUrl, type StreamState } from '../sse';
import type { Camera, CustosEvent, EventPage } from '../types';

const MAX_ALERTS = 200;

export function alertItem(event: CustosEvent, cameraName: string, showSnapshot: boolean): HTMLLIElement {
  if (event.type === 'face_match') return matchItem(event, cameraName, showSnapshot);
  if (event.type === 'plate_hit') return plateHitItem(event, cameraName, showSnapshot);
  const url = showSnapshot ? snapshotUrl(event) : null;
  const details = eventDetails(event);
  return h(
    'li',
    { class: `alert type-${event.type}`, 'data-event-id': event.id },
    url ? h('img', { class: 'snapshot', src: url, alt: `Snapshot of ${event.label} at ${cameraName}`, loading: 'lazy' }) : h('div', { class: 'snapshot none', 'aria-hidden': 'true', text: '—' }),
    h(
      'div',
      { class: 'alert-body' },
      h('div', { class: 'alert-title' }, h('strong', { text: `${event.label || 'object'} ` }), h('span', { class: 'type-tag', text: eventTypeText(event.type) })),
      h('div', { class: 'alert-meta' }, h('time', { datetime: new Date(event.time_ms).toISOString(), text: formatTime(event.time_ms) }), ` · ${cameraName}`),
      h('div', { class: 'muted small', text: details }),
    ),
  );
}

/**
 * A lead a person must verify, never a decision: a watchlist match (verified on the Face
 * matches page) or a plate hit (on the Plates page's hits), with its stored crop.
 */
function leadItem(event: CustosEvent, cameraName: string, showCrop: boolean, lead: { title: string; alt: string; imgClass: string; meta: (string | Node)[]; details: string; href: string }): HTMLLIElement {
  const url = showCrop ? snapshotUrl(event) : null;
  return h(
    'li',
    { class: `alert type-${event.type}`, 'data-event-id': event.id },
    url ? h('img', { class: `snapshot ${lead.imgClass}`.trim(), src: url, alt: lead.alt, loading: 'lazy' }) : h('div', { class: 'snapshot none', 'aria-hidden': 'true', text: '—' }),
    h(
      'div',
      { class: 'alert-body' },
      h('div', { class: 'alert-title' }, h('strong', { text: `${lead.title} ` }), h('span', { class: 'type-tag lead', text: 'lead — verify' })),
      h('div', { class: 'alert-meta' }, h('time', { datetime: new Date(event.time_ms).toISOString(), text: formatTime(event.time_ms) }), ` · ${cameraName}`, ...lead.meta),
      h('div', { class: 'muted small' }, `${lead.details} · `, h('a', { href: lead.href, text: 'confirm or reject' })),
    ),
  );
}

function matchItem(event: CustosEvent, cameraName: string, showCrop: boolean): HTMLLIElement {
  return leadItem(event, cameraName, showCrop, {
    title: `Watchlist: ${event.watchlist_label ?? event.label}`,
    alt: `Face seen at ${cameraName}`,
    imgClass: '',
    meta: [],
    details: `score ${event.score.toFixed(3)}`,
    href: '/matches',
  });
}

/** A plate read that matched a hotlist entry: compare the crop with the entry before acting. */
function plateHitItem(event: CustosEvent, cameraName: string, showCrop: boolean): HTMLLIElement {
  return leadItem(event, cameraName, showCrop, {
    title: `Hotlist: ${event.watchlist_label || 'hotlist entry'}`,
    alt: `Plate read at ${cameraName}`,
    imgClass: 'plate-crop-alert',
    meta: [' · plate read ', h('span', { class: 'plate', text: event.plate ?? '?' })],
    details: `confidence ${event.score.toFixed(2)} · a read can be wrong: compare the crop with the entry`,
    href: '/plates?tab=hits',
  });
}

const STATE_TEXT: Record<StreamState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

export function renderAlerts(root: HTMLElement, ctx: PageContext): () => void {
  const stateBadge = h('span', { class: 'conn conn-connecting', text: STATE_TEXT.connecting });
  const connection = h('p', { class: 'connection', role: 'status', 'aria-live': 'polite' }, 'Stream: ', stateBadge);
  const notice = h('p', { class: 'notice', role: 'alert', hidden: true });
  const count = h('span', { class: 'muted', text: '0 alerts' });
  const list = h('ol', { class: 'alerts', 'aria-label': 'Alerts, newest first' });
  const empty = h('p', { class: 'muted', text: 'Waiting for alerts. New events appear here as they happen.' });
  append(root, h('div', { class: 'page-head' }, h('h1', { id: 'page-title', text: 'Alerts' }), connection, count), notice, empty, list);

  const names = new Map<string, string>();
  let alerts: CustosEvent[] = [];
  let source: EventSource | null = null;
  let attempt = 0;
  let timer: number | undefined;
  let stopped = false;
  let lastId: string | null = null;
  const showSnapshots = may(ctx.me, 'view_alerts');

  const setState = (state: StreamState, detail = ''): void => {
    stateBadge.className = `conn conn-${state}`;
    stateBadge.textContent = STATE_TEXT[state] + (detail ? ` ${detail}` : '');
    root.setAttribute('data-stream', state);
  };

  const render = (): void => {
    clear(list);
    for (const event of alerts) list.appendChild(alertItem(event, names.get(event.camera) ?? event.camera, showSnapshots));
    empty.hidden = alerts.length > 0;
    count.textContent = `${alerts.length} alert${alerts.length === 1 ? '' : 's'}`;
  };

  const accept = (event: CustosEvent): void => {
    alerts = addAlert(alerts, event, MAX_ALERTS);
    if (!lastId || event.id > lastId) lastId = event.id;
  };

  const catchUp = async (): Promise<void> => {
    // Events published while disconnected: only a role that may search stored events can
    // fetch them (the stream has no Last-Event-ID replay yet, docs/api.md "Not yet").
    if (!lastId) return;
    if (!may(ctx.me, 'search_events')) {
      notice.hidden = false;
      notice.textContent = 'The connection was interrupted: alerts raised meanwhile may be missing from this list.';
      return;
    }
    try {
      const page = await getJson<EventPage>('/api/events', { after: lastId, limit: 1000 });
      for (const e of page.events) accept(e);
      render();
    } catch {
      // The stream goes on; the notice below says what may be missing.
    }
  };

  const scheduleReconnect = (): void => {
    const delay = reconnectDelayMs(attempt);
    attempt += 1;
    setState('reconnecting', `in ${Math.round(delay / 1000)} s`);
    window.clearTimeout(timer);
    timer = window.setTimeout(connect, delay);
  };

  function connect(): void {
    if (stopped) return;
    source?.close();
    setState(attempt === 0 ? 'connecting' : 'reconnecting');
    const es = new EventSource(withQuery('/api/events/stream', {}), { withCredentials: true });
    source = es;
    let wasOpen = false;
    es.addEventListener('open', () => {
      if (wasOpen || attempt > 0) void catchUp();
      wasOpen = true;
      attempt = 0;
      setState('open');
    });
    es.addEventListener('event', (message: MessageEvent<string>) => {
      try {
        accept(parseEventData(message.data));
        render();
      } catch (error) {
        console.warn('bad event on the stream:', error);
      }
    });
    es.addEventListener('dropped', (message: MessageEvent<string>) => {
      notice.hidden = false;
      notice.textContent = `The server dropped this feed (${parseDroppedData(message.data)}); reconnecting.`;
      es.close();
      scheduleReconnect();
    });
    es.addEventListener('error', () => {
      if (stopped) return;
      if (es.readyState === EventSource.CONNECTING) {
        // The browser retries by itself after the server's `retry:` delay.
        setState('reconnecting');
        return;
      }
      // CLOSED: the server answered with an error status (401, 403, 503) or not at all.
      es.close();
      void getJson('/api/me')
        .then(() => scheduleReconnect())
        .catch(() => {
          // A 401 sends the app to the login page; anything else: keep trying.
          if (!stopped) scheduleReconnect();
        });
    });
  }

  void loadCameras()
    .then((cameras: Camera[]) => {
      for (const c of cameras) names.set(c.id, c.name);
      render();
    })
    .catch(() => undefined);
  render();
  connect();

  return () => {
    stopped = true;
    window.clearTimeout(timer);
    source?.close();
  };
}
