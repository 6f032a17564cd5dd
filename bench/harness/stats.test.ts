import { describe, expect, it } from 'vitest';
import { max, mean, median, min, percentile, percentileOfSorted, summarize } from './stats.js';

describe('percentile (linear interpolation between order statistics)', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median(new Float64Array([10]))).toBe(10);
  });

  it('matches hand-computed values', () => {
    // 1..100 sorted: p99 sits at rank 0.99 * 99 = 98.01, between 99 and 100.
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 99)).toBeCloseTo(99.01, 10);
    expect(percentile(hundred, 50)).toBeCloseTo(50.5, 10);
    expect(percentile(hundred, 90)).toBeCloseTo(90.1, 10);
    // [10, 20, 30, 40, 50]: p25 is rank 1 exactly, p10 is rank 0.4 (10 + 0.4 * 10).
    const five = [50, 10, 40, 20, 30];
    expect(percentile(five, 25)).toBe(20);
    expect(percentile(five, 10)).toBeCloseTo(14, 10);
    expect(percentile(five, 0)).toBe(10);
    expect(percentile(five, 100)).toBe(50);
  });

  it('does not reorder its input and rejects percentiles outside 0..100', () => {
    const input = new Float64Array([3, 1, 2]);
    percentile(input, 50);
    expect([...input]).toEqual([3, 1, 2]);
    expect(() => percentile(input, 101)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], -1)).toThrow(RangeError);
  });

  it('returns NaN for no samples', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(mean([])).toBeNaN();
  });
});

describe('summarize', () => {
  it('computes every statistic from one pass over a sorted copy', () => {
    const s = summarize(new Float64Array([2, 4, 4, 4, 5, 5, 7, 9]));
    expect(s.count).toBe(8);
    expect(s.min).toBe(2);
    expect(s.max).toBe(9);
    expect(s.mean).toBe(5);
    expect(s.median).toBe(4.5);
    // Sample standard deviation: sum of squared deviations 32, over n - 1 = 7.
    expect(s.stddev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    // p90: rank 6.3 between 7 and 9.
    expect(s.p90).toBeCloseTo(7.6, 10);
    expect(min([3, -1, 2])).toBe(-1);
    expect(max([3, -1, 2])).toBe(3);
  });

  it('gives NaN statistics and a zero count for an empty input', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.median).toBeNaN();
    expect(s.max).toBeNaN();
    expect(summarize([7]).stddev).toBe(0);
  });
});
