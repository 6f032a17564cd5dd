import { describe, expect, it } from 'vitest';
import { asRequestId } from '../core/ids.js';
import { Rng } from '../core/rng.js';
import type { Event } from '../core/schema/index.js';
import { BehaviourModel } from './behaviour.js';
import { TOPIC_COUNT, World } from './world.js';

const world = new World({ users: 3000, items: 20_000, days: 1, seed: 11 });
const request = asRequestId('r1');

/** Engagement and watch fraction of `users` over `trials` views each of items drawn by `pick`. */
function engagement(
  model: BehaviourModel,
  users: number[],
  pick: (u: number, rng: Rng) => number,
  trials = 20,
) {
  const rng = new Rng('picks');
  let engaged = 0;
  let fraction = 0;
  let likes = 0;
  let n = 0;
  const sink: Event[] = [];
  for (const u of users) {
    for (let t = 0; t < trials; t++) {
      // A fresh session each time so fatigue and satisfaction do not leak between the two arms.
      const session = model.startSession(u, world.startMs);
      const outcome = session.view(pick(u, rng), request, 0, sink);
      engaged += outcome.engaged ? 1 : 0;
      fraction += Math.min(outcome.fraction, 1);
      likes += outcome.liked ? 1 : 0;
      n++;
      sink.length = 0;
    }
  }
  return { engaged: engaged / n, fraction: fraction / n, likes: likes / n };
}

describe('behaviour model', () => {
  // Users and items in the same language isolate the topic effect.
  const users = Array.from({ length: world.userCount }, (_, u) => u)
    .filter((u) => world.userLanguage[u] === 0)
    .slice(0, 300);
  const englishItems = Array.from({ length: world.itemCount }, (_, i) => i).filter(
    (i) => world.itemLanguage[i] === 0,
  );

  it('engages a user far more with items of their top topic than with random items', () => {
    const topTopicItems = new Map<number, number[]>();
    for (const i of englishItems) {
      if (world.itemTopic2[i] !== 255) continue;
      topTopicItems.set(world.itemTopic[i]!, [...(topTopicItems.get(world.itemTopic[i]!) ?? []), i]);
    }
    const eligible = users.filter((u) => (topTopicItems.get(world.topTopic(u))?.length ?? 0) > 0);
    const top = engagement(new BehaviourModel(world, new Rng('a')), eligible, (u, rng) =>
      rng.pick(topTopicItems.get(world.topTopic(u))!),
    );
    const random = engagement(new BehaviourModel(world, new Rng('a')), eligible, (_u, rng) =>
      rng.pick(englishItems),
    );
    // Stated margins: at least twice the engagement, 1.5x the watch fraction and twice the likes.
    expect(top.engaged).toBeGreaterThan(2 * random.engaged);
    expect(top.fraction).toBeGreaterThan(1.5 * random.fraction);
    expect(top.likes).toBeGreaterThan(2 * random.likes);
  });

  it('loses interest deeper into a session, on foreign-language videos, and gains it for followed creators', () => {
    const model = new BehaviourModel(world, new Rng('b'));
    const u = users[0]!;
    const i = englishItems[0]!;
    expect(model.engagementLogit(u, i, 50)).toBeLessThan(model.engagementLogit(u, i, 0));
    const foreign = Array.from({ length: world.itemCount }, (_, k) => k).find(
      (k) =>
        world.itemTopic[k] === world.itemTopic[i] &&
        world.itemTopic2[k] === world.itemTopic2[i] &&
        !model.understands(u, world.itemLanguage[k]!),
    )!;
    expect(model.engagementLogit(u, foreign, 0) - model.engagementLogit(u, i, 0)).toBeLessThan(-1);
    const before = model.engagementLogit(u, i, 0);
    model.follows.set(u, [world.itemCreator[i]!]);
    expect(model.engagementLogit(u, i, 0)).toBeGreaterThan(before);
  });

  it('emits an impression and a play for every view, with consistent ids, times and watch time', () => {
    const model = new BehaviourModel(world, new Rng('c'));
    const session = model.startSession(users[1]!, world.startMs + 1000);
    const events: Event[] = [];
    for (let position = 0; position < 10 && session.active; position++)
      session.view(englishItems[position]!, request, position, events);
    const impressions = events.filter((e) => e.type === 'impression');
    const plays = events.filter((e) => e.type === 'play');
    expect(impressions.length).toBe(session.depth);
    expect(plays.length).toBe(session.depth);
    for (let k = 1; k < events.length; k++) expect(events[k]!.ts).toBeGreaterThanOrEqual(events[k - 1]!.ts);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    for (const play of plays) {
      expect(play.watch_ms).toBeGreaterThan(0);
      expect(play.duration_ms).toBe(world.itemDurationMs[Number(play.item_id.slice(1))]);
    }
    expect(session.watchMs).toBe(plays.reduce((a, p) => a + p.watch_ms, 0));
  });

  it('stays longer in sessions where the videos match the user', () => {
    const sessionLength = (pick: (u: number, rng: Rng) => number) => {
      const model = new BehaviourModel(world, new Rng('d'));
      const rng = new Rng('e');
      const sink: Event[] = [];
      let total = 0;
      for (const u of users) {
        const session = model.startSession(u, world.startMs);
        while (session.active) session.view(pick(u, rng), request, 0, sink);
        total += session.depth;
        sink.length = 0;
      }
      return total / users.length;
    };
    const byTopic = new Map<number, number[]>();
    for (const i of englishItems)
      byTopic.set(world.itemTopic[i]!, [...(byTopic.get(world.itemTopic[i]!) ?? []), i]);
    const matched = sessionLength((u, rng) => rng.pick(byTopic.get(world.topTopic(u)) ?? englishItems));
    const random = sessionLength((_u, rng) => rng.pick(englishItems));
    expect(matched).toBeGreaterThan(1.5 * random);
  });

  it('lets interests drift slowly: after a month the top topic is usually the same', () => {
    const copy = new World({ users: 500, items: 100, days: 1, seed: 5 });
    const model = new BehaviourModel(copy, new Rng('f'));
    const before = Array.from({ length: copy.userCount }, (_, u) => copy.topTopic(u));
    const snapshot = Float32Array.from(copy.userInterest);
    for (let u = 0; u < copy.userCount; u++) model.startSession(u, copy.startMs + 30 * 86_400_000);
    const same = before.filter((t, u) => copy.topTopic(u) === t).length / copy.userCount;
    let moved = 0;
    for (let k = 0; k < snapshot.length; k++) moved += Math.abs(snapshot[k]! - copy.userInterest[k]!);
    expect(same).toBeGreaterThan(0.7);
    expect(moved / copy.userCount).toBeGreaterThan(0.01);
    for (let u = 0; u < copy.userCount; u++) {
      let sum = 0;
      for (let k = 0; k < TOPIC_COUNT; k++) sum += copy.userInterest[u * TOPIC_COUNT + k]!;
      expect(sum).toBeCloseTo(1, 4);
    }
  });
});
