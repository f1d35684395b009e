// Licence-plate queries, the plate hotlist and its hits, without DOM: the shapes of the
// /api/plates routes, the query and proposal checks made before sending, the wildcard help and
// which actions a principal is offered. The server decides (400/403 anyway); this only keeps
// the UI from sending what it would refuse and from offering what the role may not do.

import { withQuery, type QueryValue } from './api';
import { formatTime } from './format';
import { may, type Principal } from './nav';
import type { DecideOffer } from './policy';

export interface PlateCandidate {
  text: string;
  confidence: number;
}

export interface PlateRead {
  id: string;
  camera: string;
  time_ms: number;
  plate: string;
  confidence: number;
  candidates: PlateCandidate[];
  label: string;
  track_id: number;
  frames: number;
  /** `/api/plates/reads/{id}/crop.jpg`; fetching it needs the query's case and legal basis. */
  crop: string;
}

export interface PlateQueryAnswer {
  query_id: string;
  case: string;
  legal_basis: string;
  count: number;
  truncated: boolean;
  reads: PlateRead[];
}

export type HotlistStatus = 'pending' | 'active' | 'rejected' | 'withdrawn' | 'expired';

export interface HotlistEntry {
  id: string;
  plate: string;
  label: string;
  reason: string;
  legal_basis_ref: string;
  max_confusions: number;
  status: HotlistStatus;
  proposed_by: string;
  proposed_ms: number;
  expires_ms: number;
  approval_id: string;
  decided_by: string;
  decided_ms: number;
}

export type HitStatus = 'lead' | 'confirmed' | 'rejected';

export interface PlateHit {
  id: string;
  time_ms: number;
  camera: string;
  plate: string;
  entry_id: string;
  entry_plate: string;
  entry_label: string;
  /** Look-alike characters between the read and the entry's plate. */
  distance: number;
  confidence: number;
  status: HitStatus;
  crop: string;
  decided_by: string;
}

export const MAX_CONFUSIONS = 2;
export const MAX_CASE_LENGTH = 200;
/** Hotlist entries: default and longest life (the legal basis's expiry may cut it shorter). */
export const HOTLIST_DEFAULT_DAYS = 7;
export const HOTLIST_MAX_DAYS = 30;
const DAY_MS = 24 * 3600_000;

/** Characters a plate reader confuses (docs/plates.md), for the "max confusions" help. */
/** The same groups as plate_match.cc's kGroups: a confusion is counted only within a group. */
export const LOOK_ALIKES: readonly string[] = ['0 O D Q', '1 I J L T', '2 Z', '5 S', '6 G C', '8 B', '4 A', '7 T', 'E F'];

/** GET /api/health `plates`: the node's plate reader since it started. */
export interface PlateReaderHealth {
  crops_offered: number;
  crops_dropped: number;
  crops_read: number;
  reads_stored: number;
  hits: number;
  errors: number;
  last_error: string;
}

/**
 * One line about the plate reader for the hits page: what it did, and a warning when it drops
 * vehicles (it is behind) or fails. `null`: no camera of this node reads plates.
 */
export function readerSummary(p: PlateReaderHealth | null | undefined): { text: string; warn: boolean } {
  if (!p) return { text: 'No camera reads plates on this server.', warn: false };
  const parts = [`Plate reader: ${p.crops_read} vehicle crops read, ${p.reads_stored} reads stored, ${p.hits} hits since start`];
  let warn = false;
  if (p.crops_dropped > 0) {
    const share = p.crops_offered > 0 ? Math.round((100 * p.crops_dropped) / p.crops_offered) : 0;
    parts.push(`${p.crops_dropped} crops (${share} %) dropped because the reader was behind: fewer frames vote on each plate`);
    warn = true;
  }
  if (p.errors > 0) {
    parts.push(`${p.errors} errors, the last: ${p.last_error}`);
    warn = true;
  }
  return { text: `${parts.join('; ')}.`, warn };
}

export const CONFUSION_CHOICES: readonly (readonly [number, string])[] = [
  [0, '0 — every known character as given'],
  [1, '1 look-alike character may differ (0/O, 8/B …)'],
  [2, '2 look-alike characters may differ'],
];

/** Plate text as the reader writes it: upper case, without spaces, dashes, dots. */
export function normalisePlate(text: string): string {
  return text.toUpperCase().replace(/[\s\-.·]/g, '');
}

/**
 * A plate pattern for a query: letters and digits, `?` for one unknown character, `*` for any
 * run of characters (a partial plate from a witness). Empty: no plate filter.
 */
export function platePattern(text: string): { pattern: string } | { error: string } {
  const pattern = normalisePlate(text).replace(/\*+/g, '*');
  if (pattern === '') return { pattern };
  const bad = /[^A-Z0-9?*]/u.exec(pattern);
  if (bad) {
    return { error: `"${bad[0]}" cannot be in a plate pattern: use letters A–Z, digits 0–9, ? for one unknown character and * for any run of characters.` };
  }
  if (!/[A-Z0-9]/.test(pattern)) return { error: 'Give at least one known character of the plate: wildcards alone would match every plate.' };
  if (pattern.replace(/\*/g, '').length > 10) return { error: 'A plate has at most 10 characters; the pattern has more.' };
  return { pattern };
}

/** The pattern in words, under the plate field: "Matches B, then any one character, then X48, then anything (or nothing)". */
export function describePattern(pattern: string): string {
  if (pattern === '') return 'No plate given: every read of the camera and time range matches.';
  if (!/[?*]/.test(pattern)) return `Matches exactly ${pattern} (plus look-alike characters if you allow them).`;
  const parts: string[] = [];
  for (const run of pattern.match(/[A-Z0-9]+|\?+|\*/g) ?? []) {
    if (run === '*') parts.push('anything (or nothing)');
    else if (run.startsWith('?')) parts.push(run.length === 1 ? 'any one character' : `any ${run.length} characters`);
    else parts.push(run);
  }
  return `Matches ${parts.join(', then ')}.`;
}

export interface PlateQueryInput {
  caseRef: string;
  legalBasis: string;
  /** The chosen basis's camera scope (empty: every camera). */
  basisCameras?: readonly string[];
  plate: string;
  camera: string;
  fromMs: number | null;
  toMs: number | null;
  maxConfusions: number;
  limit: number;
}

/** The query of GET /api/plates/reads, or the first thing to fix (checked before sending). */
export function plateQuery(input: PlateQueryInput): { params: Record<string, QueryValue> } | { error: string } {
  const caseRef = input.caseRef.trim();
  if (!caseRef) return { error: 'Give the case reference: every plate query names the case it is for, and is recorded with it in the audit log.' };
  if (caseRef.length > MAX_CASE_LENGTH) return { error: `The case reference has ${caseRef.length} characters; at most ${MAX_CASE_LENGTH}.` };
  if (!input.legalBasis.trim()) return { error: 'Choose the legal basis that allows this query (one in force that covers plate queries).' };
  const scope = input.basisCameras ?? [];
  if (scope.length > 0 && !scope.includes(input.camera)) {
    return { error: `Legal basis ${input.legalBasis} covers only cameras ${scope.join(', ')}: choose one of them.` };
  }
  const plate = platePattern(input.plate);
  if ('error' in plate) return plate;
  if (input.fromMs !== null && input.toMs !== null && input.toMs <= input.fromMs) return { error: '"To" must be after "From".' };
  if (!Number.isInteger(input.maxConfusions) || input.maxConfusions < 0 || input.maxConfusions > MAX_CONFUSIONS) {
    return { error: `Max confusions is 0 to ${MAX_CONFUSIONS}.` };
  }
  return {
    params: {
      case: caseRef,
      legal_basis: input.legalBasis.trim(),
      plate: plate.pattern,
      camera: input.camera,
      from: input.fromMs,
      to: input.toMs,
      max_confusions: input.maxConfusions,
      limit: input.limit,
    },
  };
}

/** A read's crop URL with the query's case and legal basis, which the crop route checks too. */
export function cropUrl(crop: string, caseRef: string, legalBasis: string): string {
  const [path = '', query = ''] = crop.split('?', 2);
  const params = Object.fromEntries(new URLSearchParams(query));
  return withQuery(path, { ...params, case: caseRef, legal_basis: legalBasis });
}

/** "BKX4B21 0.41, 8KX4821 0.33": the reader's alternatives to the read plate. */
export function candidatesText(read: Pick<PlateRead, 'plate' | 'candidates'>): string {
  const others = read.candidates.filter((c) => c.text !== read.plate);
  return others.length === 0 ? '—' : others.map((c) => `${c.text} ${c.confidence.toFixed(2)}`).join(', ');
}

export interface HotlistActions {
  /** Approve / Reject: null when not offered; disabled with the reason on one's own proposal. */
  decide: DecideOffer | null;
  withdraw: boolean;
}

/** Four eyes: the proposer is never offered the decision on their own entry. */
export function hotlistActions(principal: Principal, entry: Pick<HotlistEntry, 'status' | 'proposed_by'>): HotlistActions {
  let decide: DecideOffer | null = null;
  if (entry.status === 'pending' && may(principal, 'approve_watchlist')) {
    decide = entry.proposed_by.toLowerCase() === principal.user.toLowerCase()
      ? { offer: false, why: 'You proposed this entry; four eyes: a different supervisor must decide it.' }
      : { offer: true };
  }
  return { decide, withdraw: (entry.status === 'pending' || entry.status === 'active') && may(principal, 'plate_query') };
}

export function hitActions(principal: Principal, hit: Pick<PlateHit, 'status'>): { confirm: boolean; reject: boolean } {
  const open = hit.status === 'lead' && may(principal, 'acknowledge_alerts');
  return { confirm: open, reject: open };
}

export interface HotlistProposalInput {
  plate: string;
  label: string;
  reason: string;
  legalBasis: string;
  /** The chosen legal basis's expiry, when known. */
  basisExpiresMs: number | null;
  expiresMs: number | null;
  maxConfusions: number;
  nowMs: number;
}

/** The body of POST /api/plates/hotlist, or the first thing to fix. */
export function hotlistBody(input: HotlistProposalInput): { body: Record<string, unknown> } | { error: string } {
  const plate = normalisePlate(input.plate);
  if (!/^[A-Z0-9]{2,10}$/.test(plate)) {
    return { error: 'A hotlist entry is a whole plate: 2 to 10 letters and digits, no wildcards (allow look-alike characters with "Max confusions").' };
  }
  if (!input.label.trim()) return { error: 'Give a label: how operators see the entry when it raises a hit.' };
  if (!input.legalBasis.trim()) return { error: 'Choose the legal basis for the entry (one in force that covers plate queries).' };
  if (!input.reason.trim()) return { error: 'Give the reason, for the supervisor who decides the entry.' };
  if (!Number.isInteger(input.maxConfusions) || input.maxConfusions < 0 || input.maxConfusions > MAX_CONFUSIONS) {
    return { error: `Max confusions is 0 to ${MAX_CONFUSIONS}.` };
  }
  const body: Record<string, unknown> = {
    plate,
    label: input.label.trim(),
    reason: input.reason.trim(),
    legal_basis_ref: input.legalBasis.trim(),
    max_confusions: input.maxConfusions,
  };
  if (input.expiresMs !== null) {
    if (input.expiresMs <= input.nowMs) return { error: 'The expiry must be in the future.' };
    if (input.expiresMs > input.nowMs + HOTLIST_MAX_DAYS * DAY_MS) return { error: `A hotlist entry lasts at most ${HOTLIST_MAX_DAYS} days.` };
    if (input.basisExpiresMs !== null && input.expiresMs > input.basisExpiresMs) {
      return { error: `The legal basis expires on ${formatTime(input.basisExpiresMs)}; the entry cannot outlast it.` };
    }
    body['expires_ms'] = input.expiresMs;
  }
  return { body };
}

export const HIT_STATUS_TEXT: Record<HitStatus, string> = {
  lead: 'lead — verify',
  confirmed: 'confirmed',
  rejected: 'rejected (false hit)',
};

/** The tabs of the plates page, with the permission each needs. */
export type PlateTab = 'query' | 'hotlist' | 'hits';
export const PLATE_TABS: readonly { id: PlateTab; title: string; permission: string }[] = [
  { id: 'query', title: 'Query reads', permission: 'plate_query' },
  { id: 'hotlist', title: 'Hotlist', permission: 'plate_query' },
  { id: 'hits', title: 'Hits', permission: 'view_alerts' },
];

/** The tabs a principal may open, and which one `wanted` (from `?tab=`) resolves to. */
export function plateTabs(principal: Principal, wanted: string | null): { tabs: PlateTab[]; current: PlateTab | null } {
  const tabs = PLATE_TABS.filter((t) => may(principal, t.permission)).map((t) => t.id);
  const current = tabs.find((t) => t === wanted) ?? tabs[0] ?? null;
  return { tabs, current };
}
