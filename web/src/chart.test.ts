import { describe, expect, it } from 'vitest';
import { band, countAxis, countToY, labelTotals, niceCeil, stackCounts } from './chart';
import type { Counts } from './types';

describe('niceCeil', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    expect(niceCeil(1)).toBe(1);
    expect(niceCeil(1.2)).toBe(2);
    expect(niceCeil(3)).toBe(5);
    expect(niceCeil(7)).toBe(10);
    expect(niceCeil(20)).toBe(20);
    expect(niceCeil(420)).toBe(500);
    expect(niceCeil(0.3)).toBeCloseTo(0.5);
    expect(niceCeil(0)).toBe(1);
  });
});

describe('countAxis', () => {
  it('uses integer steps and covers the maximum', () => {
    expect(countAxis(7, 5)).toEqual({ top: 8, ticks: [0, 2, 4, 6, 8] });
    expect(countAxis(100, 5)).toEqual({ top: 100, ticks: [0, 20, 40, 60, 80, 100] });
  });
  it('draws an axis for an all-zero chart', () => {
    expect(countAxis(0, 5)).toEqual({ top: 1, ticks: [0, 1] });
  });
  it('never uses fractional steps for small counts', () => {
    const { ticks } = countAxis(3, 10);
    expect(ticks.every((t) => Number.isInteger(t))).toBe(true);
    expect(ticks.at(-1)).toBeGreaterThanOrEqual(3);
  });
});

const counts: Counts = {
  type: 'track_start',
  bucket_ms: 60_000,
  from_ms: 0,
  to_ms: 180_000,
  labels: ['car', 'person'],
  buckets: [
    { start_ms: 0, counts: { person: 2, car: 1 } },
    { start_ms: 60_000, counts: {} },
    { start_ms: 120_000, counts: { person: 3, bicycle: 4 } },
  ],
};

describe('stackCounts', () => {
  it('stacks the chosen labels in order and skips zero segments', () => {
    const stacked = stackCounts(counts, ['car', 'person']);
    expect(stacked[0]).toEqual({
      start_ms: 0,
      total: 3,
      segments: [
        { label: 'car', count: 1, y0: 0, y1: 1 },
        { label: 'person', count: 2, y0: 1, y1: 3 },
      ],
    });
    expect(stacked[1]).toEqual({ start_ms: 60_000, total: 0, segments: [] });
  });
  it('leaves out labels that are not chosen (hidden in the legend)', () => {
    expect(stackCounts(counts, ['person']).map((b) => b.total)).toEqual([2, 0, 3]);
  });
});

describe('labelTotals', () => {
  it('sums per label, including labels missing from `labels`', () => {
    expect(labelTotals(counts)).toEqual({ car: 1, person: 5, bicycle: 4 });
  });
});

describe('band and countToY', () => {
  it('divides the width into equal bands with a gap', () => {
    expect(band(0, 10, 1000)).toEqual({ x: 4, width: 92 });
    expect(band(9, 10, 1000).x).toBe(904);
    expect(band(0, 0, 100)).toEqual({ x: 0, width: 0 });
  });
  it('maps counts to y with 0 at the bottom', () => {
    expect(countToY(0, 10, 200)).toBe(200);
    expect(countToY(10, 10, 200)).toBe(0);
    expect(countToY(5, 10, 200)).toBe(100);
  });
});
