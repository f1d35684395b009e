// Policy records as people read them, and which policy actions a principal is offered. Pure: no
// DOM, no fetch. The server decides (src/policy/policy_engine.cc refuses with a reason); this
// only keeps the UI from offering what the role may never do.

import { formatTime } from './format';
import type { Principal } from './nav';
import type { ApprovalRequest, ApprovalStatus, EvidenceHold, LegalBasis, ProtectedAssembly } from './types';

export const LEGAL_BASIS_TYPES: readonly string[] = ['court_order', 'statute', 'case', 'consent', 'administrative_order'];

/** Acts a legal basis may cover (policy::ActName), with what they mean. */
export const ACTS: readonly (readonly [string, string])[] = [
  ['watchlist_entry', 'Enrolling a person on a watchlist'],
  ['plate_query', 'Querying plate reads'],
  ['unblurred_export', 'Exporting unblurred video'],
  ['old_playback', 'Playing back recordings older than 24 h'],
  ['unpublished_camera', 'Starting a camera not in the public register'],
  ['evidence_hold', 'Placing an evidence hold'],
  ['face_recognition', 'Face recognition'],
  ['plate_hotlist', 'Putting a plate on a hotlist'],
];

export const ASSEMBLY_KINDS: readonly string[] = ['demonstration', 'worship', 'polling', 'other'];

/** Approval kinds with the permission needed to ask for one and to decide one (policy_engine.cc). */
export const APPROVAL_KINDS: readonly { kind: string; text: string; request: string; decide: string }[] = [
  { kind: 'watchlist_entry', text: 'Watchlist entry', request: 'propose_watchlist', decide: 'approve_watchlist' },
  { kind: 'unblurred_export', text: 'Unblurred export', request: 'export', decide: 'approve_unblurred_export' },
  { kind: 'evidence_hold', text: 'Evidence hold', request: 'playback', decide: 'evidence_hold' },
  { kind: 'face_authorisation', text: 'Face-recognition authorisation', request: 'manage_policies', decide: 'approve_watchlist' },
];

export type RecordStatus = 'in_force' | 'not_yet' | 'expired' | 'revoked';

export const RECORD_STATUS_TEXT: Record<RecordStatus, string> = {
  in_force: 'in force',
  not_yet: 'not yet in force',
  expired: 'expired',
  revoked: 'revoked',
};

/**
 * Status of a record valid in [start, end) unless revoked (revoked_ms != 0). As the server's
 * InForce(): start inclusive, end exclusive.
 */
export function windowStatus(start_ms: number, end_ms: number, revoked_ms: number, now_ms: number): RecordStatus {
  if (revoked_ms !== 0) return 'revoked';
  if (now_ms < start_ms) return 'not_yet';
  if (now_ms >= end_ms) return 'expired';
  return 'in_force';
}

export function legalBasisStatus(b: Pick<LegalBasis, 'valid_from_ms' | 'expires_ms' | 'revoked_ms'>, now_ms: number): RecordStatus {
  return windowStatus(b.valid_from_ms, b.expires_ms, b.revoked_ms, now_ms);
}

/** A face-recognition authorisation runs in [start, min(end, expires)). */
export function faceAuthorisationStatus(
  a: { start_ms: number; end_ms: number; expires_ms: number; revoked_ms: number },
  now_ms: number,
): RecordStatus {
  return windowStatus(a.start_ms, Math.min(a.end_ms, a.expires_ms), a.revoked_ms, now_ms);
}

export function assemblyStatus(a: Pick<ProtectedAssembly, 'start_ms' | 'end_ms' | 'revoked_ms'>, now_ms: number): RecordStatus {
  return windowStatus(a.start_ms, a.end_ms, a.revoked_ms, now_ms);
}

export type HoldStatus = 'held' | 'released';
export function holdStatus(h: Pick<EvidenceHold, 'released_ms'>): HoldStatus {
  return h.released_ms === 0 ? 'held' : 'released';
}

/** The status to show: the server's, except a pending request past its expiry is expired. */
export function approvalStatus(r: Pick<ApprovalRequest, 'status' | 'expires_ms'>, now_ms: number): ApprovalStatus {
  if (r.status === 'pending' && now_ms >= r.expires_ms) return 'expired';
  return r.status;
}

/** CSS status class (the pill colours of styles.css) for a record or request status. */
export function statusClass(status: RecordStatus | ApprovalStatus | HoldStatus): string {
  switch (status) {
    case 'in_force':
    case 'approved':
    case 'held':
      return 'status-ok';
    case 'pending':
    case 'not_yet':
      return 'status-stale';
    case 'revoked':
    case 'rejected':
      return 'status-down';
    default:
      return 'status-disabled';
  }
}

export interface PolicyActions {
  /** Approval kinds the principal may ask for. */
  requestKinds: string[];
  /** May add and revoke legal bases, face authorisations and assemblies. */
  manage: boolean;
  /** Holds a permission that decides some kind of request. */
  decideAny: boolean;
  /** May release evidence holds. */
  releaseHolds: boolean;
}

export function policyActions(principal: Principal): PolicyActions {
  const has = (p: string): boolean => principal.permissions.includes(p);
  return {
    requestKinds: APPROVAL_KINDS.filter((k) => has(k.request)).map((k) => k.kind),
    manage: has('manage_policies'),
    decideAny: APPROVAL_KINDS.some((k) => has(k.decide)),
    releaseHolds: has('evidence_hold'),
  };
}

export type DecideOffer = { offer: true } | { offer: false; why: string };

/**
 * Whether to show Approve / Reject on a request: pending (and not expired), a kind the
 * principal may decide. A request of one's own is offered with the buttons disabled and why:
 * the server would refuse it (four eyes) and the person should see that rule.
 */
export function decideOffer(principal: Principal, r: ApprovalRequest, now_ms: number): DecideOffer | null {
  const kind = APPROVAL_KINDS.find((k) => k.kind === r.kind);
  if (!kind || !principal.permissions.includes(kind.decide)) return null;
  if (approvalStatus(r, now_ms) !== 'pending') return null;
  if (r.requester === principal.user) {
    return { offer: false, why: 'You made this request; four eyes: a different supervisor must decide it.' };
  }
  return { offer: true };
}

/** "a, b and 2 more"-style short list for table cells; `empty` when there is nothing. */
export function shortList(items: readonly string[], empty: string, max = 4): string {
  if (items.length === 0) return empty;
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export function kindText(kind: string): string {
  return APPROVAL_KINDS.find((k) => k.kind === kind)?.text ?? kind.replace(/_/g, ' ');
}

export function actText(act: string): string {
  return ACTS.find(([a]) => a === act)?.[1] ?? act.replace(/_/g, ' ');
}

/** Legal bases in force now, for the request form's suggestions. */
export function basesInForce(bases: readonly LegalBasis[], now_ms: number): LegalBasis[] {
  return bases.filter((b) => legalBasisStatus(b, now_ms) === 'in_force');
}

/** Whether a legal basis covers `act` (a scope without acts covers every act). */
export function basisCoversAct(b: Pick<LegalBasis, 'scope'>, act: string): boolean {
  return b.scope.acts.length === 0 || b.scope.acts.includes(act);
}

/** Legal bases in force now that cover `act`: what a form citing a basis for that act offers. */
export function basesCovering(bases: readonly LegalBasis[], act: string, now_ms: number): LegalBasis[] {
  return basesInForce(bases, now_ms).filter((b) => basisCoversAct(b, act));
}

/** "CO-12 (court order, District court; until 2026-05-01 12:00:00; cameras a, b)" for a select. */
export function basisOptionText(b: LegalBasis): string {
  const cameras = b.scope.cameras.length ? `; cameras ${shortList(b.scope.cameras, '')}` : '';
  return `${b.reference} (${b.type.replace(/_/g, ' ')}, ${b.issuing_authority}; until ${formatTime(b.expires_ms)}${cameras})`;
}

export interface NewLegalBasisInput {
  reference: string;
  type: string;
  issuing_authority: string;
  description: string;
  valid_from_ms: number | null;
  expires_ms: number | null;
  acts: string[];
  cameras: string[];
}

/** The POST /api/legal-bases body, or the first thing to fix (checked before sending). */
export function legalBasisBody(input: NewLegalBasisInput): { body: Record<string, unknown> } | { error: string } {
  if (!input.reference.trim()) return { error: 'Give the reference (court order number, case number, statute).' };
  if (!input.issuing_authority.trim()) return { error: 'Give the issuing authority.' };
  if (input.valid_from_ms === null) return { error: 'Give the date and time from which the legal basis is valid.' };
  if (input.expires_ms === null) return { error: 'Give the date and time the legal basis expires.' };
  if (input.expires_ms <= input.valid_from_ms) return { error: 'The expiry must be after the start of validity.' };
  return {
    body: {
      reference: input.reference.trim(),
      type: input.type,
      issuing_authority: input.issuing_authority.trim(),
      scope: { description: input.description.trim(), cameras: input.cameras, acts: input.acts },
      valid_from_ms: input.valid_from_ms,
      expires_ms: input.expires_ms,
    },
  };
}

export interface NewAssemblyInput {
  name: string;
  kind: string;
  cameras: string[];
  start_ms: number | null;
  end_ms: number | null;
}

export function assemblyBody(input: NewAssemblyInput): { body: Record<string, unknown> } | { error: string } {
  if (!input.name.trim()) return { error: 'Give the assembly a name.' };
  if (input.cameras.length === 0) return { error: 'Choose at least one camera whose view the assembly covers.' };
  if (input.start_ms === null || input.end_ms === null) return { error: 'Give the start and the end of the assembly.' };
  if (input.end_ms <= input.start_ms) return { error: 'The end must be after the start.' };
  return {
    body: {
      name: input.name.trim(),
      kind: input.kind,
      targets: input.cameras.map((camera) => ({ camera })),
      start_ms: input.start_ms,
      end_ms: input.end_ms,
    },
  };
}

export const FACE_PURPOSES: readonly string[] = ['missing_person', 'threat_to_life', 'serious_crime', 'terrorism', 'wanted_person'];

export interface NewFaceAuthorisationInput {
  name: string;
  purpose: string;
  legal_basis_ref: string;
  approval_id: string;
  issuing_authority: string;
  /** Empty: every camera. */
  cameras: string[];
  start_ms: number | null;
  end_ms: number | null;
  expires_ms: number | null;
}

/** The POST /api/face-authorisations body, or the first thing to fix. */
export function faceAuthorisationBody(input: NewFaceAuthorisationInput): { body: Record<string, unknown> } | { error: string } {
  if (!input.name.trim()) return { error: 'Give the authorisation a name.' };
  if (!input.legal_basis_ref.trim()) return { error: 'Give the legal basis that allows face recognition.' };
  if (!input.approval_id) return { error: 'Choose the approved face-recognition request (four eyes).' };
  if (!input.issuing_authority.trim()) return { error: 'Give the issuing authority.' };
  if (input.start_ms === null || input.end_ms === null || input.expires_ms === null) return { error: 'Give the start, end and expiry.' };
  if (input.end_ms <= input.start_ms) return { error: 'The end must be after the start.' };
  return {
    body: {
      name: input.name.trim(),
      purpose: input.purpose,
      legal_basis_ref: input.legal_basis_ref.trim(),
      approval_id: input.approval_id,
      issuing_authority: input.issuing_authority.trim(),
      all_cameras: input.cameras.length === 0,
      cameras: input.cameras,
      start_ms: input.start_ms,
      end_ms: input.end_ms,
      expires_ms: input.expires_ms,
    },
  };
}

/** Approved face_authorisation requests no authorisation uses yet: what the form may cite. */
export function unusedFaceApprovals(approvals: readonly ApprovalRequest[], used: readonly { approval_id: string }[], now_ms: number): ApprovalRequest[] {
  const taken = new Set(used.map((u) => u.approval_id));
  return approvals.filter((a) => a.kind === 'face_authorisation' && approvalStatus(a, now_ms) === 'approved' && !taken.has(a.id));
}
