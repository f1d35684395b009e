// Shaping of the public statistics (GET /public/stats.json) and register for the transparency
// page. Pure: no DOM.

import type { RegisterCamera, StatsCurrent, StatsMonth } from './types';

export type MonthMetric = Exclude<keyof StatsMonth, 'month'>;

/** The monthly figures, in table order, with their column headings. */
export const MONTH_METRICS: readonly (readonly [MonthMetric, string])[] = [
  ['logins', 'Logins'],
  ['live_views', 'Live views'],
  ['playbacks', 'Playbacks'],
  ['searches', 'Searches'],
  ['plate_queries', 'Plate queries'],
  ['exports', 'Exports'],
  ['deletions', 'Deletions (retention)'],
  ['matches', 'Face matches'],
  ['confirmed_matches', 'Confirmed matches'],
  ['false_matches', 'False matches'],
  ['plate_hits', 'Plate hotlist hits'],
  ['confirmed_plate_hits', 'Confirmed plate hits'],
  ['false_plate_hits', 'False plate hits'],
  ['approvals_requested', 'Approvals requested'],
  ['approvals_granted', 'Approvals granted'],
  ['approvals_rejected', 'Approvals rejected'],
  ['refusals', 'Refusals'],
  ['audit_reads', 'Audit-log reads'],
];

export const CURRENT_FIGURES: readonly (readonly [keyof StatsCurrent, string])[] = [
  ['cameras', 'Cameras in the register'],
  ['cameras_recording', 'Cameras recording'],
  ['watchlist_entries', 'Active watchlist entries'],
  ['face_authorisations_in_force', 'Face-recognition authorisations in force'],
  ['protected_assemblies_in_force', 'Protected assemblies in force'],
  ['legal_bases_in_force', 'Legal bases in force'],
  ['evidence_holds', 'Evidence holds'],
  ['audit_entries', 'Audit-log entries'],
];

/** A month's value of a metric; a field the server did not send counts as 0. */
export function metricOf(month: Partial<StatsMonth>, metric: MonthMetric): number {
  const v = month[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export interface MonthBar {
  month: string;
  value: number;
}

/**
 * Bars of one metric, oldest month first (the server sends newest first), at most `max_months`
 * (the newest ones). Months the server skipped (no activity) are filled in with 0, so the bars
 * are evenly spaced in time.
 */
export function monthBars(months: readonly StatsMonth[], metric: MonthMetric, max_months = 24): MonthBar[] {
  const byMonth = new Map<string, number>();
  for (const m of months) if (/^\d{4}-\d{2}$/.test(m.month)) byMonth.set(m.month, metricOf(m, metric));
  const keys = [...byMonth.keys()].sort();
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (!first || !last) return [];
  const out: MonthBar[] = [];
  for (let m = first; m <= last; m = nextMonth(m)) out.push({ month: m, value: byMonth.get(m) ?? 0 });
  return out.slice(-max_months);
}

/** "2026-11" -> "2026-12", "2026-12" -> "2027-01". */
export function nextMonth(month: string): string {
  const year = Number(month.slice(0, 4));
  const mon = Number(month.slice(5, 7));
  return mon >= 12 ? `${String(year + 1).padStart(4, '0')}-01` : `${String(year).padStart(4, '0')}-${String(mon + 1).padStart(2, '0')}`;
}

/** "2026-11" -> "Nov 2026" (fixed English month names: the page must not depend on locale). */
export function monthLabel(month: string): string {
  const names = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const mon = Number(month.slice(5, 7));
  return names[mon - 1] ? `${names[mon - 1]} ${month.slice(0, 4)}` : month;
}

/** Names of a camera's zones or lines; older servers send only a boolean. */
export function namesOf(value: string[] | boolean | undefined): string[] | null {
  if (Array.isArray(value)) return value;
  return null;
}

/** What a camera does, in plain words, for the register table. */
export function capabilityList(camera: RegisterCamera): string[] {
  const c = camera.capabilities;
  const out: string[] = [];
  if (c.object_detection) out.push('detects people and vehicles');
  const zones = namesOf(c.zones);
  if (zones === null ? c.zones === true : zones.length > 0) out.push(zones && zones.length ? `zones: ${zones.join(', ')}` : 'zones');
  const lines = namesOf(c.counting_lines);
  if (lines === null ? c.counting_lines === true : lines.length > 0) out.push(lines && lines.length ? `counting lines: ${lines.join(', ')}` : 'counting lines');
  if (c.loitering_alerts) out.push('loitering alerts');
  if (out.length === 0) out.push('none (camera disabled)');
  return out;
}

/** "48 h video, 30 days events, 30 days snapshots" with units that read well. */
export function retentionText(r: RegisterCamera['retention']): string {
  if (!r) return 'not stated';
  const days = (n: number): string => `${trim(n)} day${n === 1 ? '' : 's'}`;
  const video = r.video_hours >= 48 && r.video_hours % 24 === 0 ? days(r.video_hours / 24) : `${trim(r.video_hours)} h`;
  return `video ${video}, events ${days(r.events_days)}, snapshots ${days(r.snapshots_days)}`;
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** The origin (first line) and tree size (second line) of a signed checkpoint note. */
export function parseCheckpoint(note: string): { origin: string; size: number; root: string } | null {
  const lines = note.split('\n');
  const origin = lines[0] ?? '';
  const size = Number(lines[1]);
  const root = lines[2] ?? '';
  if (!origin || !/^\d+$/.test(lines[1] ?? '') || !root) return null;
  return { origin, size, root };
}
