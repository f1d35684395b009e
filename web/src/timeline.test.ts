import { describe, expect, it } from 'vitest';
import { clipAt, layoutSpans, recordedMs, tickLabel, timeTicks, timeToX, xToTime, type Scale } from './timeline';

const scale: Scale = { from_ms: 1_000_000, to_ms: 1_300_000, width_px: 300 };

describe('time scale', () => {
  it('maps times to pixels and back', () => {
    expect(timeToX(scale, 1_000_000)).toBe(0);
    expect(timeToX(scale, 1_150_000)).toBe(150);
    expect(timeToX(scale, 1_300_000)).toBe(300);
    expect(xToTime(scale, 150)).toBe(1_150_000);
  });
  it('clamps clicks outside the axis to its ends', () => {
    expect(xToTime(scale, -20)).toBe(1_000_000);
    expect(xToTime(scale, 999)).toBe(1_300_000);
  });
  it('survives an empty range', () => {
    expect(timeToX({ from_ms: 5, to_ms: 5, width_px: 100 }, 5)).toBe(0);
    expect(timeTicks(10, 10, 5).ticks).toEqual([]);
  });
});

describe('timeTicks', () => {
  it('picks the smallest step giving at most max_ticks ticks, aligned to the step', () => {
    const from = Date.UTC(2024, 0, 1, 10, 0, 10);
    const { step_ms, ticks } = timeTicks(from, from + 5 * 60_000, 6);
    expect(step_ms).toBe(60_000);
    expect(ticks).toHaveLength(5);
    expect(ticks[0]).toBe(Date.UTC(2024, 0, 1, 10, 1, 0));
    for (const t of ticks) expect(t % 60_000).toBe(0);
  });
  it('aligns to local time when given the time-zone offset', () => {
    const offset = 2 * 3600_000; // UTC+2
    const from = Date.UTC(2024, 0, 1, 0, 0);
    const { step_ms, ticks } = timeTicks(from, from + 24 * 3600_000, 4, offset);
    expect(step_ms).toBe(6 * 3600_000);
    // 06:00 local is 04:00 UTC.
    expect(ticks[0]).toBe(Date.UTC(2024, 0, 1, 4, 0));
  });
  it('falls back to whole days for very long ranges', () => {
    const { step_ms } = timeTicks(0, 30 * 24 * 3600_000, 5);
    expect(step_ms).toBe(6 * 24 * 3600_000);
  });
});

describe('layoutSpans', () => {
  it('clips spans to the range, drops those outside, sorts by time', () => {
    const bars = layoutSpans(
      [
        { start_ms: 1_200_000, end_ms: 1_400_000 },
        { start_ms: 900_000, end_ms: 1_050_000 },
        { start_ms: 1_500_000, end_ms: 1_600_000 },
        { start_ms: 800_000, end_ms: 900_000 },
      ],
      scale,
    );
    expect(bars).toEqual([
      { x_px: 0, width_px: 50, start_ms: 1_000_000, end_ms: 1_050_000 },
      { x_px: 200, width_px: 100, start_ms: 1_200_000, end_ms: 1_300_000 },
    ]);
  });
  it('keeps very short spans visible with a minimum width', () => {
    const [bar] = layoutSpans([{ start_ms: 1_100_000, end_ms: 1_100_010 }], scale, 2);
    expect(bar?.width_px).toBe(2);
  });
  it('ignores empty or inverted spans', () => {
    expect(layoutSpans([{ start_ms: 1_100_000, end_ms: 1_100_000 }], scale)).toEqual([]);
  });
  it('sums the recorded time inside the range', () => {
    expect(recordedMs([{ start_ms: 900_000, end_ms: 1_100_000 }, { start_ms: 1_250_000, end_ms: 2_000_000 }], scale)).toBe(150_000);
  });
});

describe('clipAt', () => {
  const spans = [
    { start_ms: 1000, end_ms: 5000 },
    { start_ms: 8000, end_ms: 20_000 },
  ];
  it('plays from the click to the end of its span', () => {
    expect(clipAt(spans, 2000, 30_000)).toEqual({ start_ms: 2000, end_ms: 5000 });
  });
  it('jumps to the next span when the click is in a gap', () => {
    expect(clipAt(spans, 6000, 30_000)).toEqual({ start_ms: 8000, end_ms: 20_000 });
  });
  it('stops at the end of the range and at the maximum clip length', () => {
    expect(clipAt(spans, 9000, 12_000)).toEqual({ start_ms: 9000, end_ms: 12_000 });
    expect(clipAt(spans, 9000, 30_000, 1000)).toEqual({ start_ms: 9000, end_ms: 10_000 });
  });
  it('gives null after the last recording or when the next span starts after the range', () => {
    expect(clipAt(spans, 21_000, 30_000)).toBeNull();
    expect(clipAt(spans, 6000, 7000)).toBeNull();
  });
});

describe('tickLabel', () => {
  it('shows seconds only for sub-minute steps and the date at midnight', () => {
    const d = new Date(2024, 4, 6, 13, 7, 9);
    expect(tickLabel(d.getTime(), 10_000)).toBe('13:07:09');
    expect(tickLabel(d.getTime(), 60_000)).toBe('13:07');
    expect(tickLabel(new Date(2024, 4, 6).getTime(), 3600_000)).toBe('2024-05-06');
  });
});
