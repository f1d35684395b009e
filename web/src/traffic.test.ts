import { describe, expect, it } from 'vitest';
import { colourAssigner, lineRuns, stackCounts, bucketProblem } from './chart';
import { formatSpeed } from './format';
import { hasSpeeds, meanSpeed, seriesName, speedValues, trafficLines, trafficToCounts, type TrafficCounts } from './traffic';

const traffic: TrafficCounts = {
  camera: 'ringroad',
  bucket_ms: 60_000,
  from_ms: 0,
  to_ms: 180_000,
  series: [
    { line: 'main', direction: 'east', label: 'car' },
    { line: 'main', direction: 'east', label: 'truck' },
    { line: 'ramp', direction: 'in', label: 'car' },
  ],
  buckets: [
    { start_ms: 0, counts: [4, 1, 0], mean_speed_kmh: [50, 40, null] },
    { start_ms: 60_000, counts: [0, 0, 0], mean_speed_kmh: [null, null, null] },
    { start_ms: 120_000, counts: [2, 0, 3], mean_speed_kmh: [56, null, 30] },
  ],
};

describe('trafficToCounts (chart series building)', () => {
  it('makes one stackable series per line, direction and class', () => {
    const counts = trafficToCounts(traffic);
    expect(counts.labels).toEqual(['main · east · car', 'main · east · truck', 'ramp · in · car']);
    expect(counts.buckets[0]).toEqual({ start_ms: 0, counts: { 'main · east · car': 4, 'main · east · truck': 1, 'ramp · in · car': 0 } });
    expect(stackCounts(counts, counts.labels).map((b) => b.total)).toEqual([5, 0, 5]);
  });
  it('leaves hidden series out of the stack', () => {
    const counts = trafficToCounts(traffic);
    expect(stackCounts(counts, ['ramp · in · car']).map((b) => b.total)).toEqual([0, 0, 3]);
  });
  it('counts a missing number as 0', () => {
    const short = { ...traffic, buckets: [{ start_ms: 0, counts: [1], mean_speed_kmh: [] }] };
    expect(trafficToCounts(short).buckets[0]?.counts).toEqual({ 'main · east · car': 1, 'main · east · truck': 0, 'ramp · in · car': 0 });
  });
  it('names series and lists the counting lines', () => {
    expect(seriesName({ line: 'main', direction: 'east', label: 'bus' })).toBe('main · east · bus');
    expect(trafficLines(traffic)).toEqual(['main', 'ramp']);
  });
});

describe('speeds (advisory)', () => {
  it('gives the values per bucket with gaps where none was measured', () => {
    expect(speedValues(traffic, 0)).toEqual([50, null, 56]);
    expect(lineRuns(speedValues(traffic, 0))).toEqual([[{ index: 0, value: 50 }], [{ index: 2, value: 56 }]]);
  });
  it('weights the bucket means by the bucket counts', () => {
    expect(meanSpeed(traffic, 0)).toBeCloseTo((50 * 4 + 56 * 2) / 6);
    expect(meanSpeed(traffic, 1)).toBe(40);
    expect(meanSpeed({ ...traffic, buckets: [{ start_ms: 0, counts: [0, 0, 0], mean_speed_kmh: [null, null, null] }] }, 0)).toBeNull();
  });
  it('knows when there is no speed at all (uncalibrated camera)', () => {
    expect(hasSpeeds(traffic)).toBe(true);
    expect(hasSpeeds({ ...traffic, buckets: traffic.buckets.map((b) => ({ ...b, mean_speed_kmh: [null, null, null] })) })).toBe(false);
  });
  it('always says "advisory" next to a speed', () => {
    expect(formatSpeed(52.4)).toBe('52 km/h (advisory)');
    expect(formatSpeed(null)).toBe('—');
    expect(formatSpeed(0)).toBe('—');
  });
});

describe('chart helpers shared with the Charts page', () => {
  it('splits a line into runs at null values', () => {
    expect(lineRuns([null, 1, 2, null, null, 3])).toEqual([
      [{ index: 1, value: 1 }, { index: 2, value: 2 }],
      [{ index: 5, value: 3 }],
    ]);
    expect(lineRuns([])).toEqual([]);
  });
  it('gives each series a stable colour, wrapping after the palette', () => {
    const colour = colourAssigner(2);
    expect([colour('a'), colour('b'), colour('c'), colour('a')]).toEqual([0, 1, 0, 0]);
  });
  it('refuses more buckets than the server draws', () => {
    expect(bucketProblem(24 * 3600, 60)).toBe('That gives 1440 buckets; the server draws at most 1000. Choose a larger bucket or a shorter range.');
    expect(bucketProblem(3600, 60)).toBeNull();
  });
});
