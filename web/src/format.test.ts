import { describe, expect, it } from 'vitest';
import { fromLocalInput, toLocalInput } from './format';

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
