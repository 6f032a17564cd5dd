import { ForyouError } from '../core/errors.js';
import type { Event, Item } from '../core/schema/index.js';
import { InteractionMatrix, type RawInteraction } from './interactions.js';
import type { ItemContent } from './two-tower-features.js';

export interface PositiveOptions {
  /** A play counts as a positive when watch_ms / duration_ms reaches this (default 0.5). */
  minWatchFraction?: number;
}

/**
 * The positives of an event history: plays watched to at least `minWatchFraction` of the video, likes
 * and shares, each worth 1 (the interaction matrix sums repeats). Impressions, skips, comments, follows and
 * "not interested" are not positives.
 */
export function positiveInteractions(
  events: Iterable<Event>,
  options: PositiveOptions = {},
): RawInteraction[] {
  const minWatch = options.minWatchFraction ?? 0.5;
  if (!(minWatch >= 0))
    throw new ForyouError('FY_INVALID_ARGUMENT', `minWatchFraction must be >= 0, got ${minWatch}`);
  const out: RawInteraction[] = [];
  for (const e of events) {
    const positive =
      e.type === 'like' ||
      e.type === 'share' ||
      (e.type === 'play' && e.watch_ms >= minWatch * e.duration_ms);
    if (positive) out.push({ user: e.user_id, item: e.item_id, value: 1, ts: e.ts });
  }
  return out;
}

/** The part of a catalogue record the item tower reads. */
export function itemContentOf(item: Item): ItemContent {
  return {
    caption: item.caption,
    hashtags: item.hashtags,
    ...(item.creator_id ? { creatorId: item.creator_id } : {}),
    ...(item.language ? { language: item.language } : {}),
  };
}

export interface TwoTowerDataOptions extends PositiveOptions {
  /** Positives before this time (epoch ms) train; those at or after it are the test split. Default: all train. */
  cutMs?: number;
}

export interface TwoTowerSplit {
  /** Positives before the cut, over every catalogue item (in the order given) and every user with a positive. */
  train: InteractionMatrix;
  /** Positives at or after the cut, same users and items. */
  test: InteractionMatrix;
  /** Content of every catalogue item, aligned with the matrices' item ids. */
  content: ItemContent[];
  /** Upload time of every catalogue item. */
  createdTs: Float64Array;
}

/**
 * The two-tower model's training data from a catalogue and an event history (e.g. a simulated world:
 * `world.itemRecord(i)` for every item and the events of `simulateHistory`). Every catalogue item gets a
 * column, including items uploaded after the cut, so their content can be embedded and evaluated.
 */
export function buildTwoTowerData(
  items: readonly Item[],
  events: Iterable<Event>,
  options: TwoTowerDataOptions = {},
): TwoTowerSplit {
  const itemIds = items.map((it) => it.item_id as string);
  const known = new Set(itemIds);
  if (known.size !== itemIds.length)
    throw new ForyouError('FY_INVALID_ARGUMENT', 'the catalogue lists an item id more than once');
  const positives = positiveInteractions(events, options);
  const userSet = new Set<string>();
  for (const p of positives) {
    if (!known.has(p.item))
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `an event of user ${p.user} names item ${p.item}, which is not in the catalogue`,
      );
    userSet.add(p.user);
  }
  const universe = { userIds: [...userSet].sort(), itemIds };
  const cut = options.cutMs ?? Number.POSITIVE_INFINITY;
  return {
    train: InteractionMatrix.from(
      positives.filter((p) => p.ts < cut),
      universe,
    ),
    test: InteractionMatrix.from(
      positives.filter((p) => p.ts >= cut),
      universe,
    ),
    content: items.map(itemContentOf),
    createdTs: Float64Array.from(items, (it) => it.created_ts),
  };
}
