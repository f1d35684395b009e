import { describe, expect, it } from 'vitest';
import { auditPaging, parseIndex } from './audit';

describe('auditPaging', () => {
  it('pages forwards and backwards within the log', () => {
    expect(auditPaging(0, 50, 50, 120)).toEqual({ previous: null, next: 50, newest: 70, text: 'Entries 0–49 of 120 (numbered from 0)' });
    expect(auditPaging(50, 50, 50, 120)).toMatchObject({ previous: 0, next: 100 });
    expect(auditPaging(100, 50, 20, 120)).toMatchObject({ previous: 50, next: null });
    expect(auditPaging(30, 50, 50, 120)).toMatchObject({ previous: 0, next: 80 });
  });
  it('says so when a page is past the end', () => {
    const p = auditPaging(500, 50, 0, 120);
    expect(p.next).toBeNull();
    expect(p.previous).toBe(450);
    expect(p.text).toBe('No entries from index 500; the log has 120.');
  });
  it('has a newest page even for a short log', () => {
    expect(auditPaging(0, 100, 3, 3).newest).toBe(0);
  });
});

describe('parseIndex', () => {
  it('accepts whole non-negative numbers only', () => {
    expect(parseIndex(' 42 ')).toBe(42);
    expect(parseIndex('0')).toBe(0);
    expect(parseIndex('-1')).toBeNull();
    expect(parseIndex('1.5')).toBeNull();
    expect(parseIndex('')).toBeNull();
  });
});
