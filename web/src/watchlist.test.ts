import { describe, expect, it } from 'vitest';
import { base64Of, entryActions, matchActions, proposalBody, type FaceMatch, type WatchlistEntry } from './watchlist';

const entry = (over: Partial<WatchlistEntry>): WatchlistEntry => ({
  id: 'E1',
  label: 'Missing child',
  category: 'missing_person',
  legal_basis_ref: 'Order 7',
  reason: 'r',
  status: 'pending',
  expires_ms: 0,
  approval_id: 'A1',
  proposed_by: 'ivy',
  proposed_ms: 0,
  decided_by: '',
  decided_ms: 0,
  decision_reason: '',
  withdrawn_by: '',
  withdraw_reason: '',
  embeddings: 2,
  ...over,
});
const supervisor = (user: string) => ({ user, role: 'supervisor', permissions: ['approve_watchlist', 'propose_watchlist', 'acknowledge_alerts'] });

describe('entryActions', () => {
  it('never offers the proposer the approval of their own entry', () => {
    expect(entryActions(supervisor('IVY'), entry({})).approve).toBe(false);
    expect(entryActions(supervisor('sam'), entry({})).approve).toBe(true);
  });
  it('offers nothing but withdrawal once an entry is active, and nothing after', () => {
    expect(entryActions(supervisor('sam'), entry({ status: 'active' }))).toEqual({ approve: false, reject: false, withdraw: true });
    expect(entryActions(supervisor('sam'), entry({ status: 'expired' }))).toEqual({ approve: false, reject: false, withdraw: false });
  });
  it('gives an investigator withdrawal only', () => {
    const ivy = { user: 'ivy', role: 'investigator', permissions: ['propose_watchlist'] };
    expect(entryActions(ivy, entry({ proposed_by: 'other' }))).toEqual({ approve: false, reject: false, withdraw: true });
  });
});

describe('matchActions', () => {
  const match = { status: 'lead' } as FaceMatch;
  it('lets operators decide open leads only', () => {
    const op = { user: 'o', role: 'operator', permissions: ['acknowledge_alerts'] };
    expect(matchActions(op, match)).toEqual({ confirm: true, reject: true });
    expect(matchActions(op, { ...match, status: 'confirmed' })).toEqual({ confirm: false, reject: false });
    expect(matchActions({ user: 'v', role: 'viewer', permissions: [] }, match).confirm).toBe(false);
  });
});

describe('proposalBody', () => {
  it('trims, strips data URLs and leaves out an unset expiry', () => {
    expect(proposalBody({ label: ' A ', category: 'suspect', legalBasis: ' L ', reason: ' why ', expiresMs: null, photos: [base64Of('data:image/jpeg;base64,QUJD')] })).toEqual({
      label: 'A',
      category: 'suspect',
      legal_basis_ref: 'L',
      reason: 'why',
      photos: ['QUJD'],
    });
    expect(proposalBody({ label: 'A', category: 'suspect', legalBasis: 'L', reason: 'r', expiresMs: 5, photos: [] }).expires_ms).toBe(5);
  });
});
