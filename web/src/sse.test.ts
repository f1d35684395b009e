import { describe, expect, it } from 'vitest';
import { addAlert, EventParseError, parseDroppedData, parseEventData, reconnectDelayMs, snapshotUrl } from './sse';
import type { CustosEvent } from './types';

// The example of docs/events.md.
const EXAMPLE =
  '{"box":[412.5,96.0,38.25,121.0],"camera":"entrance","direction":"in","id":"01HF7YAT00ABCDEFGHJKMNPQRS",' +
  '"label":"person","score":0.8,"time":"2023-11-14T22:13:20.123Z","time_ms":1700000000123,' +
  '"track_id":42,"type":"line_cross","zone":"gate"}';

describe('parseEventData', () => {
  it('reads the documented event JSON', () => {
    expect(parseEventData(EXAMPLE)).toEqual({
      id: '01HF7YAT00ABCDEFGHJKMNPQRS',
      camera: 'entrance',
      time_ms: 1700000000123,
      time: '2023-11-14T22:13:20.123Z',
      type: 'line_cross',
      label: 'person',
      track_id: 42,
      score: 0.8,
      box: [412.5, 96, 38.25, 121],
      zone: 'gate',
      direction: 'in',
    });
  });
  it('defaults optional keys and ignores unknown ones', () => {
    const e = parseEventData('{"id":"01A","camera":"c","time_ms":5,"type":"track_start","future_key":{"x":1}}');
    expect(e).toEqual({ id: '01A', camera: 'c', time_ms: 5, type: 'track_start', label: '', track_id: 0, score: 0, box: [0, 0, 0, 0] });
    expect(snapshotUrl(e)).toBeNull();
  });
  it('requires id, camera, time_ms and type', () => {
    for (const key of ['id', 'camera', 'time_ms', 'type']) {
      const value = JSON.parse(EXAMPLE) as Record<string, unknown>;
      delete value[key];
      expect(() => parseEventData(JSON.stringify(value))).toThrow(`event without "${key}"`);
    }
  });
  it('names a key of the wrong type', () => {
    expect(() => parseEventData(EXAMPLE.replace('"track_id":42', '"track_id":"42"'))).toThrow('"track_id" is not a number');
    expect(() => parseEventData(EXAMPLE.replace('[412.5,96.0,38.25,121.0]', '[1,2,3]'))).toThrow('"box"');
  });
  it('rejects what is not a JSON object', () => {
    expect(() => parseEventData('not json')).toThrow(EventParseError);
    expect(() => parseEventData('[1]')).toThrow('not a JSON object');
  });
  it('gives the snapshot URL of an event that has one', () => {
    const e = parseEventData(EXAMPLE.replace('"score"', '"snapshot":"snapshots/x.jpg","score"'));
    expect(snapshotUrl(e)).toBe('/api/events/01HF7YAT00ABCDEFGHJKMNPQRS/snapshot.jpg');
  });
});

describe('parseDroppedData', () => {
  it('reads the error message of an `event: dropped` body', () => {
    expect(parseDroppedData('{"error":{"code":"resource_exhausted","message":"client fell behind"}}')).toBe('client fell behind');
  });
  it('has a default for anything else', () => {
    expect(parseDroppedData('')).toMatch(/fell behind/);
  });
});

const ev = (id: string): CustosEvent => ({ id, camera: 'c', time_ms: 0, type: 'track_start', label: 'person', track_id: 1, score: 1, box: [0, 0, 0, 0] });

describe('addAlert', () => {
  it('keeps the list newest first by ULID and ignores duplicates', () => {
    let list: CustosEvent[] = [];
    for (const id of ['01B', '01D', '01A', '01C', '01D']) list = addAlert(list, ev(id));
    expect(list.map((e) => e.id)).toEqual(['01D', '01C', '01B', '01A']);
  });
  it('keeps at most max alerts, dropping the oldest', () => {
    let list: CustosEvent[] = [];
    for (const id of ['01A', '01B', '01C']) list = addAlert(list, ev(id), 2);
    expect(list.map((e) => e.id)).toEqual(['01C', '01B']);
  });
});

describe('reconnectDelayMs', () => {
  it('doubles from 1 s up to 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(reconnectDelayMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});

describe('face match alerts', () => {
  it('show the match crop, not an event snapshot', () => {
    const event = { id: '01J0', camera: 'gate', time_ms: 1, type: 'face_match', label: 'person', track_id: 1, score: 0.95, box: [0, 0, 1, 1] as [number, number, number, number], lead: true };
    expect(snapshotUrl(event)).toBe('/api/matches/01J0/crop.jpg');
  });
});

describe('plate hit and traffic events', () => {
  it('read the plate, the hotlist entry, the lead flag and advisory speeds', () => {
    const hit = parseEventData(
      '{"box":[1,2,3,4],"camera":"ringroad","id":"01HIT","label":"car","lead":true,"plate":"8KX4821","plate_read":"01READ","score":0.9,' +
        '"time_ms":5,"track_id":3,"type":"plate_hit","watchlist_entry":"01ENTRY","watchlist_label":"Stolen van"}',
    );
    expect(hit).toMatchObject({ type: 'plate_hit', plate: '8KX4821', plate_read: '01READ', watchlist_entry: '01ENTRY', watchlist_label: 'Stolen van', lead: true });
    expect(snapshotUrl(hit)).toBe('/api/plates/hits/01HIT/crop.jpg');
    const wrong = parseEventData('{"id":"01W","camera":"ringroad","time_ms":5,"type":"wrong_way","zone":"lane 1","speed_kmh":61.5,"speed_advisory":true}');
    expect(wrong).toMatchObject({ zone: 'lane 1', speed_kmh: 61.5, speed_advisory: true });
  });
  it('names a speed or flag of the wrong type', () => {
    expect(() => parseEventData('{"id":"1","camera":"c","time_ms":5,"type":"t","speed_kmh":"fast"}')).toThrow('"speed_kmh" is not a number');
    expect(() => parseEventData('{"id":"1","camera":"c","time_ms":5,"type":"t","lead":1}')).toThrow('"lead" is not a boolean');
  });
});
