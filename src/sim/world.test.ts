import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { CreatorSchema, ItemSchema, UserSchema } from '../core/schema/index.js';
import { safeParseRecord } from '../core/schema/validate.js';
import { TOPICS } from './vocabulary.js';
import { indexOfId, TOPIC_COUNT, World } from './world.js';

describe('World', () => {
  const world = new World({ users: 2000, items: 3000, days: 3, seed: 7 });

  it('is the same under the same seed and different under another', () => {
    const again = new World({ users: 2000, items: 3000, days: 3, seed: 7 });
    const other = new World({ users: 2000, items: 3000, days: 3, seed: 8 });
    expect(again.userInterest).toEqual(world.userInterest);
    expect(again.itemCreatedMs).toEqual(world.itemCreatedMs);
    expect(Array.from({ length: 50 }, (_, i) => again.itemRecord(i))).toEqual(
      Array.from({ length: 50 }, (_, i) => world.itemRecord(i)),
    );
    expect(other.userInterest).not.toEqual(world.userInterest);
  });

  it('materialises users, creators and items that pass the core schemas', () => {
    for (let u = 0; u < world.userCount; u++)
      expect(safeParseRecord(UserSchema, world.userRecord(u))).toMatchObject({ ok: true });
    for (let c = 0; c < world.creatorCount; c++)
      expect(safeParseRecord(CreatorSchema, world.creatorRecord(c))).toMatchObject({ ok: true });
    for (let i = 0; i < world.itemCount; i++) {
      const result = safeParseRecord(ItemSchema, world.itemRecord(i));
      expect(result.ok, result.ok ? '' : result.message).toBe(true);
    }
  });

  it('gives users concentrated interest mixtures: the top topic holds a large share', () => {
    let topShare = 0;
    for (let u = 0; u < world.userCount; u++) {
      let sum = 0;
      for (let k = 0; k < TOPIC_COUNT; k++) sum += world.userInterest[u * TOPIC_COUNT + k]!;
      expect(sum).toBeCloseTo(1, 4);
      topShare += world.userInterest[u * TOPIC_COUNT + world.topTopic(u)]!;
    }
    // Uniform interest over 24 topics would give 1/24; people care about a few things.
    expect(topShare / world.userCount).toBeGreaterThan(0.4);
  });

  it('has heavy-tailed activity: the most active 10% of users open the app far more than the median user', () => {
    const activity = Float64Array.from(world.userActivity).sort();
    const median = activity[Math.floor(activity.length / 2)]!;
    const p90 = activity[Math.floor(activity.length * 0.9)]!;
    expect(p90 / median).toBeGreaterThan(3);
  });

  it('uploads items in id order, with a back catalogue and uploads spread over the period', () => {
    for (let i = 1; i < world.itemCount; i++)
      expect(world.itemCreatedMs[i]!).toBeGreaterThanOrEqual(world.itemCreatedMs[i - 1]!);
    const before = world.itemsUploadedBy(world.startMs);
    expect(before / world.itemCount).toBeGreaterThan(0.2);
    expect(before / world.itemCount).toBeLessThan(0.4);
    const midway = world.itemsUploadedBy((world.startMs + world.endMs) / 2);
    expect(midway).toBeGreaterThan(before);
    expect(midway).toBeLessThan(world.itemCount);
  });

  it('writes captions in the item language, without spaces in Chinese and Japanese', () => {
    const byLanguage = new Map<string, string[]>();
    for (let i = 0; i < 400; i++) {
      const item = world.itemRecord(i);
      byLanguage.set(item.language!, [...(byLanguage.get(item.language!) ?? []), item.caption]);
    }
    expect([...byLanguage.keys()].sort()).toEqual(['en', 'es', 'ja', 'pt', 'zh']);
    for (const caption of byLanguage.get('zh')!) expect(caption.replace(/ \S+$/u, '')).not.toContain(' ');
    for (const caption of byLanguage.get('ja')!)
      expect(caption).toMatch(/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}a-z0-9]/u);
    const words = new Set(TOPICS.flatMap((t) => t.words.en));
    for (const caption of byLanguage.get('en')!)
      expect(caption.split(' ').some((w) => words.has(w))).toBe(true);
  });

  it('maps ids back to indices and rejects foreign ids', () => {
    expect(indexOfId('v12', 'v', 100)).toBe(12);
    expect(indexOfId('v012', 'v', 100)).toBe(-1);
    expect(indexOfId('v100', 'v', 100)).toBe(-1);
    expect(indexOfId('u12', 'v', 100)).toBe(-1);
    expect(indexOfId('ml-m1', 'v', 100)).toBe(-1);
  });

  it('refuses invalid parameters with a message naming them', () => {
    try {
      new World({ users: 0, days: -1 });
      expect.unreachable();
    } catch (error) {
      expect(isForyouError(error, 'FY_INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toBe(
        'invalid world parameters: users: must be at least 1; days: must be > 0',
      );
    }
  });
});
