import { describe, expect, it } from 'vitest';
import { eventDetails, fromLocalInput, toLocalInput } from './format';

describe('datetime-local conversion', () => {
  it('round-trips UTC ms through the local-time input value (whole seconds)', () => {
    for (const ms of [0, 1_700_000_000_000, Date.UTC(2026, 10, 27, 3, 30, 15), Date.UTC(2026, 2, 29, 1, 30, 0)]) {
      expect(fromLocalInput(toLocalInput(ms))).toBe(ms);
    }
  });
  it('writes the value the input expects: YYYY-MM-DDTHH:MM:SS', () => {
    expect(toLocalInput(Date.now())).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  });
  it('reads a value without seconds as local time', () => {
    const local = new Date(2026, 10, 27, 9, 5).getTime();
    expect(fromLocalInput('2026-11-27T09:05')).toBe(local);
  });
  it('gives null for empty or invalid values', () => {
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('not a date')).toBeNull();
  });
});

describe('eventDetails', () => {
  const base = { type: 'line_cross', score: 0.8, track_id: 7 };
  it('names lines, lanes and zones as the event type uses them', () => {
    expect(eventDetails({ ...base, zone: 'main', direction: 'eastbound', speed_kmh: 61.6 })).toBe('line main · direction eastbound · speed 62 km/h (advisory) · score 0.80 · track 7');
    expect(eventDetails({ ...base, type: 'wrong_way', zone: 'eastbound lane 1' })).toBe('lane eastbound lane 1 · score 0.80 · track 7');
    expect(eventDetails({ ...base, type: 'stopped_vehicle', zone: 'hard shoulder', dwell_ms: 125_000 })).toBe('zone hard shoulder · stopped for 2 min 05 s · score 0.80 · track 7');
    expect(eventDetails({ ...base, type: 'loiter', zone: 'doorway', dwell_ms: 9000 })).toBe('zone doorway · score 0.80 · track 7');
  });
  it('marks every speed advisory', () => {
    expect(eventDetails({ ...base, type: 'track_end', speed_kmh: 40 })).toContain('(advisory)');
  });
});
