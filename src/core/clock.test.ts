import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from './clock.js';

describe('clocks', () => {
  it('a fake clock moves only when told, and never backwards', () => {
    const clock = new FakeClock(1000);
    expect(clock.now()).toBe(1000);
    expect(clock.advance(500)).toBe(1500);
    clock.set(10);
    expect(clock.now()).toBe(10);
    expect(() => clock.advance(-1)).toThrow('cannot go back');
  });

  it('the system clock reads Date.now()', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
