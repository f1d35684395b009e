// Watchlist and face-match logic without DOM: which actions a principal gets on an entry or a
// match, and the enrolment request body. The server decides (403 anyway); this only keeps the
// UI from offering what it would refuse.

import { may, type Principal } from './nav';

export type EntryStatus = 'pending' | 'active' | 'rejected' | 'withdrawn' | 'expired';
export type MatchStatus = 'lead' | 'confirmed' | 'rejected';

export interface WatchlistEntry {
  id: string;
  label: string;
  category: string;
  legal_basis_ref: string;
  reason: string;
  status: EntryStatus;
  expires_ms: number;
  approval_id: string;
  proposed_by: string;
  proposed_ms: number;
  decided_by: string;
  decided_ms: number;
  decision_reason: string;
  withdrawn_by: string;
  withdraw_reason: string;
  embeddings: number;
}

export interface FaceMatch {
  id: string;
  entry_id: string;
  label: string;
  category: string;
  score: number;
  camera: string;
  track_id: number;
  time_ms: number;
  attempts: number;
  vote_share: number;
  status: MatchStatus;
  decided_by: string;
  note: string;
  crop: string;
}

/** The data-subject categories of docs/face.md, with what they mean. */
export const CATEGORIES: readonly { id: string; text: string }[] = [
  { id: 'wanted_suspect', text: 'Wanted suspect (arrest warrant)' },
  { id: 'suspect', text: 'Suspect of a serious crime' },
  { id: 'missing_person', text: 'Missing person' },
  { id: 'vulnerable_person', text: 'Vulnerable person' },
  { id: 'threat', text: 'Imminent threat' },
];

export interface EntryActions {
  approve: boolean;
  reject: boolean;
  withdraw: boolean;
}

/** Four eyes: the proposer is never offered approval of their own entry. */
export function entryActions(principal: Principal, entry: WatchlistEntry): EntryActions {
  const pending = entry.status === 'pending';
  const decide = pending && may(principal, 'approve_watchlist') && entry.proposed_by.toLowerCase() !== principal.user.toLowerCase();
  return {
    approve: decide,
    reject: decide,
    withdraw: (pending || entry.status === 'active') && may(principal, 'propose_watchlist'),
  };
}

export function matchActions(principal: Principal, match: FaceMatch): { confirm: boolean; reject: boolean } {
  const open = match.status === 'lead' && may(principal, 'acknowledge_alerts');
  return { confirm: open, reject: open };
}

export interface Proposal {
  label: string;
  category: string;
  legal_basis_ref: string;
  reason: string;
  expires_ms?: number;
  photos: string[];
}

/** The body of POST /api/watchlist; `photos` are base64 (no data: prefix). */
export function proposalBody(fields: {
  label: string;
  category: string;
  legalBasis: string;
  reason: string;
  expiresMs: number | null;
  photos: string[];
}): Proposal {
  const body: Proposal = {
    label: fields.label.trim(),
    category: fields.category,
    legal_basis_ref: fields.legalBasis.trim(),
    reason: fields.reason.trim(),
    photos: fields.photos,
  };
  if (fields.expiresMs !== null) body.expires_ms = fields.expiresMs;
  return body;
}

/** "data:image/jpeg;base64,AAAA" -> "AAAA". */
export function base64Of(dataUrl: string): string {
  const comma = dataUrl.indexOf(',');
  return comma < 0 ? dataUrl : dataUrl.slice(comma + 1);
}
