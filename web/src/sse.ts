// The alerts feed: parsing of the `event: event` / `event: dropped` messages of
// GET /api/events/stream (docs/api.md) and the newest-first alert list. Pure: no DOM.

import type { CustosEvent } from './types';

export class EventParseError extends Error {
  override name = 'EventParseError';
}

function fail(message: string): never {
  throw new EventParseError(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(o: Record<string, unknown>, key: string, required: boolean): string {
  const v = o[key];
  if (v === undefined) return required ? fail(`event without "${key}"`) : '';
  return typeof v === 'string' ? v : fail(`event key "${key}" is not a string`);
}

function num(o: Record<string, unknown>, key: string, required: boolean): number {
  const v = o[key];
  if (v === undefined) return required ? fail(`event without "${key}"`) : 0;
  return typeof v === 'number' && Number.isFinite(v) ? v : fail(`event key "${key}" is not a number`);
}

function bool(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  return typeof v === 'boolean' ? v : fail(`event key "${key}" is not a boolean`);
}

/**
 * An event from the JSON of docs/events.md, checked the way EventFromJson checks it: `id`,
 * `camera`, `time_ms` and `type` required, the rest default to empty/zero, a key of the wrong
 * type is an error naming the key, unknown keys are ignored.
 */
export function parseEvent(value: unknown): CustosEvent {
  if (!isRecord(value)) fail('event is not a JSON object');
  const boxValue = value['box'];
  let box: [number, number, number, number] = [0, 0, 0, 0];
  if (boxValue !== undefined) {
    if (!Array.isArray(boxValue) || boxValue.length !== 4 || !boxValue.every((n) => typeof n === 'number')) {
      fail('event key "box" is not 4 numbers');
    }
    box = [boxValue[0], boxValue[1], boxValue[2], boxValue[3]] as [number, number, number, number];
  }
  const event: CustosEvent = {
    id: str(value, 'id', true),
    camera: str(value, 'camera', true),
    time_ms: num(value, 'time_ms', true),
    type: str(value, 'type', true),
    label: str(value, 'label', false),
    track_id: num(value, 'track_id', false),
    score: num(value, 'score', false),
    box,
  };
  const time = str(value, 'time', false);
  if (time) event.time = time;
  const zone = str(value, 'zone', false);
  if (zone) event.zone = zone;
  const direction = str(value, 'direction', false);
  if (direction) event.direction = direction;
  const dwell = num(value, 'dwell_ms', false);
  if (dwell) event.dwell_ms = dwell;
  const snapshot = str(value, 'snapshot', false);
  if (snapshot) event.snapshot = snapshot;
  for (const key of ['watchlist_entry', 'watchlist_label', 'plate', 'plate_read'] as const) {
    const text = str(value, key, false);
    if (text) event[key] = text;
  }
  const speed = num(value, 'speed_kmh', false);
  if (speed) event.speed_kmh = speed;
  if (bool(value, 'speed_advisory')) event.speed_advisory = true;
  if (bool(value, 'lead')) event.lead = true;
  return event;
}

/** The `data:` of an `event: event` message. Throws EventParseError. */
export function parseEventData(data: string): CustosEvent {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    throw new EventParseError(`event data is not JSON: ${String(error)}`);
  }
  return parseEvent(value);
}

/** The message of an `event: dropped` body ({"error": {code, message}}), or a default. */
export function parseDroppedData(data: string): string {
  try {
    const value: unknown = JSON.parse(data);
    if (isRecord(value) && isRecord(value['error']) && typeof value['error']['message'] === 'string') {
      return value['error']['message'];
    }
  } catch {
    // fall through
  }
  return 'the server dropped this client because it fell behind';
}

/**
 * Adds an event to a newest-first list (by ULID, which sorts by time), ignoring one already
 * there (the stream and a catch-up query may both deliver it), keeping at most `max`.
 */
export function addAlert(list: readonly CustosEvent[], event: CustosEvent, max = 200): CustosEvent[] {
  if (list.some((e) => e.id === event.id)) return [...list];
  const next = [...list];
  const at = next.findIndex((e) => e.id < event.id);
  if (at === -1) next.push(event);
  else next.splice(at, 0, event);
  return next.slice(0, max);
}

/** URL of an event's snapshot, or null when the event has none. */
export function snapshotUrl(event: CustosEvent): string | null {
  // A face match shows the stored crop of the match (its id is the match id).
  if (event.type === 'face_match') return `/api/matches/${encodeURIComponent(event.id)}/crop.jpg`;
  // A plate hit shows the stored crop of the hit (its id is the hit id, as for face matches).
  if (event.type === 'plate_hit') return `/api/plates/hits/${encodeURIComponent(event.id)}/crop.jpg`;
  return event.snapshot ? `/api/events/${encodeURIComponent(event.id)}/snapshot.jpg` : null;
}

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Delay before reconnecting after `attempt` failed tries: 1 s doubling to 30 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
}
