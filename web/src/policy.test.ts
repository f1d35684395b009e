import { describe, expect, it } from 'vitest';
import {
  approvalStatus,
  assemblyBody,
  assemblyStatus,
  basesCovering,
  basesInForce,
  basisOptionText,
  decideOffer,
  faceAuthorisationBody,
  faceAuthorisationStatus,
  holdStatus,
  legalBasisBody,
  legalBasisStatus,
  policyActions,
  shortList,
  statusClass,
  unusedFaceApprovals,
  windowStatus,
} from './policy';
import type { Principal } from './nav';
import type { ApprovalRequest, LegalBasis } from './types';

const VIEWER = ['read_transparency', 'live_view_blurred'];
const INVESTIGATOR = [...VIEWER, 'view_alerts', 'acknowledge_alerts', 'search_events', 'playback', 'plate_query', 'export', 'propose_watchlist', 'read_policies'];
const PERMS: Record<string, string[]> = {
  viewer: VIEWER,
  investigator: INVESTIGATOR,
  supervisor: [...INVESTIGATOR, 'approve_watchlist', 'approve_unblurred_export', 'evidence_hold'],
  auditor: ['read_transparency', 'read_audit', 'read_statistics', 'read_config', 'read_policies'],
  admin: ['read_transparency', 'read_config', 'manage_cameras', 'manage_users', 'manage_policies', 'read_policies'],
};
const as = (role: string, user = `u-${role}`): Principal => ({ user, role, permissions: PERMS[role] ?? [] });

describe('windowStatus', () => {
  it('is in force from start (inclusive) to end (exclusive), as the server counts', () => {
    expect(windowStatus(100, 200, 0, 99)).toBe('not_yet');
    expect(windowStatus(100, 200, 0, 100)).toBe('in_force');
    expect(windowStatus(100, 200, 0, 199)).toBe('in_force');
    expect(windowStatus(100, 200, 0, 200)).toBe('expired');
  });
  it('says revoked whatever the time', () => {
    expect(windowStatus(100, 200, 150, 150)).toBe('revoked');
    expect(windowStatus(100, 200, 150, 50)).toBe('revoked');
  });
});

describe('record statuses', () => {
  it('reads a legal basis from valid_from_ms, expires_ms, revoked_ms', () => {
    const b = { valid_from_ms: 1000, expires_ms: 2000, revoked_ms: 0 };
    expect(legalBasisStatus(b, 1500)).toBe('in_force');
    expect(legalBasisStatus(b, 2500)).toBe('expired');
    expect(legalBasisStatus({ ...b, revoked_ms: 1200 }, 1500)).toBe('revoked');
  });
  it('ends a face authorisation at the earlier of its window end and its expiry', () => {
    const a = { start_ms: 0, end_ms: 5000, expires_ms: 3000, revoked_ms: 0 };
    expect(faceAuthorisationStatus(a, 2999)).toBe('in_force');
    expect(faceAuthorisationStatus(a, 3000)).toBe('expired');
    expect(faceAuthorisationStatus({ ...a, expires_ms: 9000 }, 4000)).toBe('in_force');
  });
  it('reads assemblies and holds', () => {
    expect(assemblyStatus({ start_ms: 10, end_ms: 20, revoked_ms: 0 }, 5)).toBe('not_yet');
    expect(holdStatus({ released_ms: 0 })).toBe('held');
    expect(holdStatus({ released_ms: 7 })).toBe('released');
  });
  it('shows a pending request past its expiry as expired, and keeps decided ones', () => {
    expect(approvalStatus({ status: 'pending', expires_ms: 100 }, 99)).toBe('pending');
    expect(approvalStatus({ status: 'pending', expires_ms: 100 }, 100)).toBe('expired');
    expect(approvalStatus({ status: 'approved', expires_ms: 100 }, 500)).toBe('approved');
  });
  it('maps statuses to the pill colours', () => {
    expect(statusClass('in_force')).toBe('status-ok');
    expect(statusClass('pending')).toBe('status-stale');
    expect(statusClass('rejected')).toBe('status-down');
    expect(statusClass('expired')).toBe('status-disabled');
  });
});

describe('policyActions', () => {
  it('offers each role what its permissions allow', () => {
    expect(policyActions(as('viewer'))).toEqual({ requestKinds: [], manage: false, decideAny: false, releaseHolds: false });
    expect(policyActions(as('investigator'))).toEqual({
      requestKinds: ['watchlist_entry', 'unblurred_export', 'evidence_hold'],
      manage: false,
      decideAny: false,
      releaseHolds: false,
    });
    expect(policyActions(as('supervisor'))).toMatchObject({ manage: false, decideAny: true, releaseHolds: true });
    expect(policyActions(as('admin'))).toEqual({ requestKinds: ['face_authorisation'], manage: true, decideAny: false, releaseHolds: false });
    expect(policyActions(as('auditor'))).toEqual({ requestKinds: [], manage: false, decideAny: false, releaseHolds: false });
  });
});

const request = (over: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  id: '01J0000000000000000000000A',
  kind: 'watchlist_entry',
  object_id: 'person-1',
  legal_basis_ref: 'CO-1',
  camera: '',
  reason: 'r',
  requester: 'alice',
  requester_user_id: 2,
  created_ms: 0,
  expires_ms: 1000,
  status: 'pending',
  decided_by: '',
  decided_ms: 0,
  decision_reason: '',
  ...over,
});

describe('decideOffer', () => {
  it('offers a supervisor the decision on another person’s pending request', () => {
    expect(decideOffer(as('supervisor', 'bob'), request(), 10)).toEqual({ offer: true });
  });
  it('disables it on one’s own request, saying why (four eyes)', () => {
    const offer = decideOffer(as('supervisor', 'alice'), request(), 10);
    expect(offer?.offer).toBe(false);
    if (offer && !offer.offer) expect(offer.why).toMatch(/four eyes/);
  });
  it('offers nothing to roles that cannot decide, or on decided or expired requests', () => {
    expect(decideOffer(as('investigator', 'bob'), request(), 10)).toBeNull();
    expect(decideOffer(as('admin', 'bob'), request(), 10)).toBeNull();
    expect(decideOffer(as('supervisor', 'bob'), request({ status: 'approved' }), 10)).toBeNull();
    expect(decideOffer(as('supervisor', 'bob'), request(), 1000)).toBeNull();
  });
});

describe('form bodies', () => {
  const input = {
    reference: ' CO-2026/17 ',
    type: 'court_order',
    issuing_authority: 'District court',
    description: '',
    valid_from_ms: 1000,
    expires_ms: 2000,
    acts: ['watchlist_entry'],
    cameras: [],
  };
  it('builds the POST /api/legal-bases body with a scope', () => {
    expect(legalBasisBody(input)).toEqual({
      body: {
        reference: 'CO-2026/17',
        type: 'court_order',
        issuing_authority: 'District court',
        scope: { description: '', cameras: [], acts: ['watchlist_entry'] },
        valid_from_ms: 1000,
        expires_ms: 2000,
      },
    });
  });
  it('says what to fix before sending', () => {
    expect(legalBasisBody({ ...input, reference: ' ' })).toHaveProperty('error');
    expect(legalBasisBody({ ...input, expires_ms: null })).toHaveProperty('error');
    expect(legalBasisBody({ ...input, expires_ms: 1000 })).toEqual({ error: 'The expiry must be after the start of validity.' });
  });
  it('builds an assembly over whole camera views', () => {
    expect(assemblyBody({ name: 'March', kind: 'demonstration', cameras: ['a', 'b'], start_ms: 1, end_ms: 2 })).toEqual({
      body: { name: 'March', kind: 'demonstration', targets: [{ camera: 'a' }, { camera: 'b' }], start_ms: 1, end_ms: 2 },
    });
    expect(assemblyBody({ name: 'March', kind: 'other', cameras: [], start_ms: 1, end_ms: 2 })).toHaveProperty('error');
  });
});

describe('helpers', () => {
  it('shortens long lists', () => {
    expect(shortList([], 'all cameras')).toBe('all cameras');
    expect(shortList(['a', 'b'], '-')).toBe('a, b');
    expect(shortList(['a', 'b', 'c', 'd', 'e', 'f'], '-')).toBe('a, b, c, d and 2 more');
  });
  const basis = (reference: string, over: Partial<LegalBasis> = {}): LegalBasis => ({
    reference,
    type: 'case',
    issuing_authority: 'x',
    scope: { description: '', cameras: [], acts: [] },
    valid_from_ms: 0,
    expires_ms: 100,
    created_ms: 0,
    created_by: 'admin',
    revoked_ms: 0,
    revoked_by: '',
    revoke_reason: '',
    ...over,
  });
  it('suggests only the legal bases in force', () => {
    const bases = [basis('a'), basis('b', { revoked_ms: 5 }), basis('c', { expires_ms: 10 })];
    expect(basesInForce(bases, 50).map((x) => x.reference)).toEqual(['a']);
  });
  it('offers for an act only the bases in force that cover it (no acts: every act)', () => {
    const acts = (list: string[]): Partial<LegalBasis> => ({ scope: { description: '', cameras: [], acts: list } });
    const bases = [basis('plates', acts(['plate_query'])), basis('all'), basis('faces', acts(['watchlist_entry'])), basis('old', { ...acts(['plate_query']), expires_ms: 10 })];
    expect(basesCovering(bases, 'plate_query', 50).map((x) => x.reference)).toEqual(['plates', 'all']);
    const scoped = basis('PQ-1', { type: 'court_order', issuing_authority: 'District court', scope: { description: '', cameras: ['ringroad'], acts: [] } });
    expect(basisOptionText(scoped)).toMatch(/^PQ-1 \(court order, District court; until .+; cameras ringroad\)$/);
  });
});

describe('face-recognition authorisation form', () => {
  const input = {
    name: ' Missing child ',
    purpose: 'missing_person',
    legal_basis_ref: 'CO-1',
    approval_id: 'A1',
    issuing_authority: 'Court',
    cameras: [] as string[],
    start_ms: 10,
    end_ms: 20,
    expires_ms: 30,
  };
  it('covers every camera when none is chosen', () => {
    expect(faceAuthorisationBody(input)).toEqual({
      body: { name: 'Missing child', purpose: 'missing_person', legal_basis_ref: 'CO-1', approval_id: 'A1', issuing_authority: 'Court', all_cameras: true, cameras: [], start_ms: 10, end_ms: 20, expires_ms: 30 },
    });
    expect(faceAuthorisationBody({ ...input, cameras: ['a'] })).toMatchObject({ body: { all_cameras: false, cameras: ['a'] } });
  });
  it('needs an approval and a window', () => {
    expect(faceAuthorisationBody({ ...input, approval_id: '' })).toHaveProperty('error');
    expect(faceAuthorisationBody({ ...input, end_ms: 5 })).toEqual({ error: 'The end must be after the start.' });
  });
  it('offers only approved face requests not used yet', () => {
    const approved = request({ id: 'A1', kind: 'face_authorisation', status: 'approved' });
    const used = request({ id: 'A2', kind: 'face_authorisation', status: 'approved' });
    const other = request({ id: 'A3', kind: 'watchlist_entry', status: 'approved' });
    const pending = request({ id: 'A4', kind: 'face_authorisation' });
    expect(unusedFaceApprovals([approved, used, other, pending], [{ approval_id: 'A2' }], 10).map((a) => a.id)).toEqual(['A1']);
  });
});
