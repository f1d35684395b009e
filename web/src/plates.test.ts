import { describe, expect, it } from 'vitest';
import type { Principal } from './nav';
import {
  candidatesText,
  cropUrl,
  describePattern,
  hitActions,
  hotlistActions,
  hotlistBody,
  normalisePlate,
  plateQuery,
  platePattern,
  plateTabs,
  readerSummary,
  type PlateQueryInput,
} from './plates';

const VIEWER = ['read_transparency', 'live_view_blurred'];
const OPERATOR = [...VIEWER, 'view_alerts', 'acknowledge_alerts'];
const INVESTIGATOR = [...OPERATOR, 'search_events', 'playback', 'plate_query', 'export', 'propose_watchlist', 'read_policies'];
const SUPERVISOR = [...INVESTIGATOR, 'approve_watchlist', 'approve_unblurred_export', 'evidence_hold'];
const who = (user: string, role: string, permissions: string[]): Principal => ({ user, role, permissions });
const operator = who('olga', 'operator', OPERATOR);
const investigator = who('ivan', 'investigator', INVESTIGATOR);
const supervisor = who('sara', 'supervisor', SUPERVISOR);

describe('platePattern and describePattern (wildcard help)', () => {
  it('normalises what a witness says: case, spaces, dashes and dots', () => {
    expect(normalisePlate('b-kx 48.21')).toBe('BKX4821');
    expect(platePattern(' b?x 48** ')).toEqual({ pattern: 'B?X48*' });
    expect(platePattern('')).toEqual({ pattern: '' });
  });
  it('refuses characters a plate reader never writes, naming the first', () => {
    const checked = platePattern('BÄ12');
    expect('error' in checked && checked.error).toContain('"Ä"');
    expect('error' in platePattern('AB#1')).toBe(true);
  });
  it('needs a known character: wildcards alone would match every plate', () => {
    for (const p of ['*', '??', '?*?']) expect(platePattern(p)).toEqual({ error: expect.stringContaining('at least one known character') });
  });
  it('refuses patterns longer than a plate', () => {
    expect('error' in platePattern('ABCDEFGHIJK')).toBe(true);
    expect(platePattern('ABCDEFGHIJ*')).toEqual({ pattern: 'ABCDEFGHIJ*' });
  });
  it('says in words what a pattern matches', () => {
    expect(describePattern('B?X48*')).toBe('Matches B, then any one character, then X48, then anything (or nothing).');
    expect(describePattern('*4821')).toBe('Matches anything (or nothing), then 4821.');
    expect(describePattern('AB??9')).toBe('Matches AB, then any 2 characters, then 9.');
    expect(describePattern('BKX4821')).toContain('exactly BKX4821');
    expect(describePattern('')).toContain('every read');
  });
});

describe('plateQuery', () => {
  const base: PlateQueryInput = {
    caseRef: ' 2026/118 ',
    legalBasis: 'PQ-2026/031',
    plate: 'bkx*',
    camera: '',
    fromMs: 1000,
    toMs: 2000,
    maxConfusions: 1,
    limit: 200,
  };
  it('builds the query of GET /api/plates/reads, trimmed and normalised', () => {
    expect(plateQuery(base)).toEqual({
      params: { case: '2026/118', legal_basis: 'PQ-2026/031', plate: 'BKX*', camera: '', from: 1000, to: 2000, max_confusions: 1, limit: 200 },
    });
  });
  it('needs a case reference before anything else', () => {
    const q = plateQuery({ ...base, caseRef: '  ', legalBasis: '' });
    expect('error' in q && q.error).toMatch(/^Give the case reference/);
    expect('error' in plateQuery({ ...base, caseRef: 'x'.repeat(201) })).toBe(true);
  });
  it('needs a legal basis', () => {
    expect(plateQuery({ ...base, legalBasis: '' })).toEqual({ error: expect.stringContaining('legal basis') });
  });
  it('keeps to the camera scope of the chosen legal basis', () => {
    const scoped = { ...base, basisCameras: ['ringroad'] };
    expect(plateQuery(scoped)).toEqual({ error: 'Legal basis PQ-2026/031 covers only cameras ringroad: choose one of them.' });
    expect('params' in plateQuery({ ...scoped, camera: 'ringroad' })).toBe(true);
  });
  it('passes on a bad pattern, a reversed range and out-of-range confusions', () => {
    expect('error' in plateQuery({ ...base, plate: '**' })).toBe(true);
    expect(plateQuery({ ...base, fromMs: 2000, toMs: 2000 })).toEqual({ error: '"To" must be after "From".' });
    expect('error' in plateQuery({ ...base, maxConfusions: 3 })).toBe(true);
    expect('error' in plateQuery({ ...base, maxConfusions: 0.5 })).toBe(true);
  });
});

describe('cropUrl and candidatesText', () => {
  it('adds the case and legal basis to the crop URL, which the route checks too', () => {
    expect(cropUrl('/api/plates/reads/01A/crop.jpg', 'C 1', 'PQ-2026/031')).toBe('/api/plates/reads/01A/crop.jpg?case=C+1&legal_basis=PQ-2026%2F031');
    expect(cropUrl('/api/plates/reads/01A/crop.jpg?size=s', 'C', 'B')).toBe('/api/plates/reads/01A/crop.jpg?size=s&case=C&legal_basis=B');
  });
  it('lists the alternatives to the read plate', () => {
    const read = { plate: 'BKX4821', candidates: [{ text: 'BKX4821', confidence: 0.9 }, { text: '8KX4821', confidence: 0.412 }] };
    expect(candidatesText(read)).toBe('8KX4821 0.41');
    expect(candidatesText({ plate: 'A1', candidates: [{ text: 'A1', confidence: 1 }] })).toBe('—');
  });
});

describe('hotlistActions: never one\'s own', () => {
  const pending = { status: 'pending' as const, proposed_by: 'ivan' };
  it('offers a supervisor the decision on someone else\'s pending entry', () => {
    expect(hotlistActions(supervisor, pending)).toEqual({ decide: { offer: true }, withdraw: true });
  });
  it('shows the proposer the four-eyes reason instead (case-insensitive names)', () => {
    const own = hotlistActions(supervisor, { status: 'pending', proposed_by: 'SARA' });
    expect(own.decide).toEqual({ offer: false, why: expect.stringContaining('four eyes') });
  });
  it('offers no decision to an investigator, only withdrawal', () => {
    expect(hotlistActions(investigator, pending)).toEqual({ decide: null, withdraw: true });
  });
  it('offers nothing on decided, withdrawn or expired entries, except withdrawing an active one', () => {
    expect(hotlistActions(supervisor, { status: 'active', proposed_by: 'ivan' })).toEqual({ decide: null, withdraw: true });
    for (const status of ['rejected', 'withdrawn', 'expired'] as const) {
      expect(hotlistActions(supervisor, { status, proposed_by: 'ivan' })).toEqual({ decide: null, withdraw: false });
    }
  });
  it('offers an operator nothing on the hotlist', () => {
    expect(hotlistActions(operator, pending)).toEqual({ decide: null, withdraw: false });
  });
});

describe('hitActions', () => {
  it('lets roles that acknowledge alerts confirm or reject open leads only', () => {
    expect(hitActions(operator, { status: 'lead' })).toEqual({ confirm: true, reject: true });
    expect(hitActions(operator, { status: 'confirmed' })).toEqual({ confirm: false, reject: false });
    expect(hitActions(who('v', 'viewer', VIEWER), { status: 'lead' })).toEqual({ confirm: false, reject: false });
  });
});

describe('hotlistBody', () => {
  const now = Date.UTC(2026, 10, 27, 12);
  const day = 24 * 3600_000;
  const input = { plate: 'bkx-4821', label: ' Stolen van ', reason: ' case 118 ', legalBasis: 'PQ-2026/031', basisExpiresMs: now + 50 * day, expiresMs: null, maxConfusions: 1, nowMs: now };
  it('builds the POST body, leaving the expiry to the server by default', () => {
    expect(hotlistBody(input)).toEqual({ body: { plate: 'BKX4821', label: 'Stolen van', reason: 'case 118', legal_basis_ref: 'PQ-2026/031', max_confusions: 1 } });
  });
  it('takes whole plates only', () => {
    for (const plate of ['BKX*', 'B?X4821', 'A', 'ABCDEFGHIJK']) expect(hotlistBody({ ...input, plate })).toEqual({ error: expect.stringContaining('whole plate') });
  });
  it('needs a label, a legal basis and a reason', () => {
    expect('error' in hotlistBody({ ...input, label: ' ' })).toBe(true);
    expect('error' in hotlistBody({ ...input, legalBasis: '' })).toBe(true);
    expect('error' in hotlistBody({ ...input, reason: '' })).toBe(true);
  });
  it('keeps the expiry within 30 days and the legal basis', () => {
    expect(hotlistBody({ ...input, expiresMs: now + 10 * day })).toEqual({ body: expect.objectContaining({ expires_ms: now + 10 * day }) });
    expect(hotlistBody({ ...input, expiresMs: now - 1 })).toEqual({ error: 'The expiry must be in the future.' });
    expect(hotlistBody({ ...input, expiresMs: now + 31 * day })).toEqual({ error: 'A hotlist entry lasts at most 30 days.' });
    expect(hotlistBody({ ...input, basisExpiresMs: now + 5 * day, expiresMs: now + 6 * day })).toEqual({ error: expect.stringContaining('cannot outlast it') });
  });
});

describe('plateTabs', () => {
  it('gives investigators every tab and operators the hits only', () => {
    expect(plateTabs(investigator, null)).toEqual({ tabs: ['query', 'hotlist', 'hits'], current: 'query' });
    expect(plateTabs(investigator, 'hits').current).toBe('hits');
    expect(plateTabs(operator, 'query')).toEqual({ tabs: ['hits'], current: 'hits' });
    expect(plateTabs(who('v', 'viewer', VIEWER), null)).toEqual({ tabs: [], current: null });
  });
});

describe('readerSummary', () => {
  const healthy = { crops_offered: 40, crops_dropped: 0, crops_read: 40, reads_stored: 5, hits: 1, errors: 0, last_error: '' };
  it('says when no camera reads plates', () => {
    expect(readerSummary(null)).toEqual({ text: 'No camera reads plates on this server.', warn: false });
    expect(readerSummary(undefined).warn).toBe(false);
  });
  it('counts what the reader did without a warning when it keeps up', () => {
    expect(readerSummary(healthy)).toEqual({ text: 'Plate reader: 40 vehicle crops read, 5 reads stored, 1 hits since start.', warn: false });
  });
  it('warns with the share dropped when the reader falls behind, and with the last error', () => {
    const behind = readerSummary({ ...healthy, crops_offered: 50, crops_dropped: 10, errors: 2, last_error: 'disk full' });
    expect(behind.warn).toBe(true);
    expect(behind.text).toContain('10 crops (20 %) dropped because the reader was behind');
    expect(behind.text).toContain('2 errors, the last: disk full');
  });
});
