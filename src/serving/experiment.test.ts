import { describe, expect, it } from 'vitest';
import { ExperimentFeed } from './experiment.js';
import type { FeedService } from './feed-service.js';

// Assignment never touches the arms' services; the end-to-end path is test/integration/demo.test.ts.
const unused = {} as FeedService;
const arms = (a: number) => [
  { name: 'a', share: a, feed: unused },
  { name: 'b', share: 1 - a, feed: unused },
];

describe('feed experiments', () => {
  it('assigns each user to one arm for good, in the configured shares', () => {
    const e = new ExperimentFeed('exp-1', arms(0.3));
    const ids = Array.from({ length: 20_000 }, (_, k) => `u${k}`);
    const inA = ids.filter((id) => e.armOf(id).name === 'a').length / ids.length;
    expect(inA).toBeGreaterThan(0.28);
    expect(inA).toBeLessThan(0.32);
    for (const id of ids.slice(0, 100)) expect(e.armOf(id).name).toBe(e.armOf(id).name);
    expect(new ExperimentFeed('exp-1', arms(0.3)).armOf('u7').name).toBe(e.armOf('u7').name);
  });

  it('splits users independently across experiments', () => {
    const one = new ExperimentFeed('one', arms(0.5));
    const two = new ExperimentFeed('two', arms(0.5));
    let both = 0;
    const n = 20_000;
    for (let k = 0; k < n; k++)
      if (one.armOf(`u${k}`).name === 'a' && two.armOf(`u${k}`).name === 'a') both++;
    expect(both / n).toBeGreaterThan(0.23);
    expect(both / n).toBeLessThan(0.27);
  });

  it('refuses arms whose shares do not sum to 1, duplicate names and no arms', () => {
    expect(() => new ExperimentFeed('x', [{ name: 'a', share: 0.7, feed: unused }])).toThrow(
      /share 0.7, expected 1/,
    );
    expect(
      () =>
        new ExperimentFeed('x', [
          { name: 'a', share: 0.5, feed: unused },
          { name: 'a', share: 0.5, feed: unused },
        ]),
    ).toThrow(/names an arm twice/);
    expect(() => new ExperimentFeed('x', [])).toThrow(/no arms/);
    expect(() => new ExperimentFeed('x', arms(1.5))).toThrow(/share must be 0 to 1/);
  });
});
