import { describe, expect, it } from 'vitest';
import { capabilityList, metricOf, monthBars, monthLabel, nextMonth, parseCheckpoint, retentionText } from './stats';
import type { RegisterCamera, StatsMonth } from './types';

const month = (m: string, searches: number): StatsMonth => ({
  month: m,
  logins: 1,
  live_views: 0,
  playbacks: 0,
  searches,
  plate_queries: 0,
  exports: 0,
  deletions: 0,
  matches: 0,
  confirmed_matches: 0,
  false_matches: 0,
  plate_hits: 0,
  confirmed_plate_hits: 0,
  false_plate_hits: 0,
  approvals_requested: 0,
  approvals_granted: 0,
  approvals_rejected: 0,
  refusals: 0,
  audit_reads: 0,
});

describe('monthBars', () => {
  it('puts the newest-first months oldest first and fills skipped months with 0', () => {
    const bars = monthBars([month('2027-02', 5), month('2026-11', 3)], 'searches');
    expect(bars).toEqual([
      { month: '2026-11', value: 3 },
      { month: '2026-12', value: 0 },
      { month: '2027-01', value: 0 },
      { month: '2027-02', value: 5 },
    ]);
  });
  it('keeps the newest months when there are too many', () => {
    const bars = monthBars([month('2026-12', 2), month('2026-11', 1), month('2026-10', 9)], 'searches', 2);
    expect(bars.map((b) => b.month)).toEqual(['2026-11', '2026-12']);
  });
  it('gives nothing for no months, and ignores malformed month keys', () => {
    expect(monthBars([], 'searches')).toEqual([]);
    expect(monthBars([month('garbage', 4)], 'searches')).toEqual([]);
  });
  it('counts a missing field as 0', () => {
    expect(metricOf({ month: '2026-11' }, 'exports')).toBe(0);
  });
});

describe('month helpers', () => {
  it('steps over the year end and labels months without the locale', () => {
    expect(nextMonth('2026-11')).toBe('2026-12');
    expect(nextMonth('2026-12')).toBe('2027-01');
    expect(monthLabel('2026-11')).toBe('Nov 2026');
    expect(monthLabel('2026-13')).toBe('2026-13');
  });
});

const camera = (over: Partial<RegisterCamera['capabilities']> = {}): RegisterCamera => ({
  id: 'c',
  name: 'C',
  enabled: true,
  location: null,
  purpose: null,
  capabilities: { object_detection: true, zones: ['door'], counting_lines: [], loitering_alerts: true, face_recognition: false, plate_recognition: false, ...over },
});

describe('register text', () => {
  it('lists capabilities plainly, with zone names', () => {
    expect(capabilityList(camera())).toEqual(['detects people and vehicles', 'zones: door', 'loitering alerts']);
    expect(capabilityList(camera({ object_detection: false, zones: [], loitering_alerts: false }))).toEqual(['none (camera disabled)']);
    expect(capabilityList(camera({ zones: true, counting_lines: true }))).toContain('counting lines');
  });
  it('words retention in hours or days', () => {
    expect(retentionText({ video_hours: 72, events_days: 30, snapshots_days: 1 })).toBe('video 3 days, events 30 days, snapshots 1 day');
    expect(retentionText({ video_hours: 36, events_days: 7, snapshots_days: 7 })).toBe('video 36 h, events 7 days, snapshots 7 days');
    expect(retentionText(undefined)).toBe('not stated');
  });
});

describe('parseCheckpoint', () => {
  it('reads origin, size and root of a signed note', () => {
    const note = 'custos.audit/87f92380047df148\n20\nXb2rQ5CKvhu2gC5Cqk4YVpT8LWvb4V2kJwvR0n8fS6o=\n\n— custos.audit/87f92380047df148 Caq==\n';
    expect(parseCheckpoint(note)).toEqual({ origin: 'custos.audit/87f92380047df148', size: 20, root: 'Xb2rQ5CKvhu2gC5Cqk4YVpT8LWvb4V2kJwvR0n8fS6o=' });
    expect(parseCheckpoint('nonsense')).toBeNull();
  });
});
