import { MS_PER_DAY, MS_PER_HOUR } from '../core/clock.js';
import type { AggregationDef, FeatureDef, FeatureViewDef, WindowName } from './definition.js';
import { and, div, eventType, field, ge, gt } from './expr.js';
import { FeatureRegistry, type FeatureServiceDef } from './registry.js';

/**
 * Foryou's own feature views: what the ranker and the candidate sources read about users, videos,
 * creators and their pairs. Change a view's features only together with its version.
 */

const EVENT_KINDS = [
  'impression',
  'play',
  'like',
  'share',
  'comment',
  'follow',
  'skip',
  'not_interested',
] as const;
const ITEM_WINDOWS: WindowName[] = ['1h', '1d', '7d', '30d'];
const watchFraction = div(field('watch_ms'), field('duration_ms'));
const completed = and(eventType('play'), ge(field('watch_ms'), field('duration_ms')));

/** `plays_1d`, `not_interested_1d`: the count of one event kind over a window. */
const countName = (kind: string, w: WindowName) =>
  kind === 'not_interested' ? `${kind}_${w}` : `${kind}s_${w}`;

function itemStatsFeatures(): FeatureDef[] {
  const out: FeatureDef[] = [];
  for (const w of ITEM_WINDOWS) {
    for (const kind of EVENT_KINDS)
      out.push({ name: countName(kind, w), kind: 'count', window: w, filter: eventType(kind) });
    out.push({ name: `completions_${w}`, kind: 'count', window: w, filter: completed });
    out.push({
      name: `watch_ms_${w}`,
      kind: 'sum',
      window: w,
      value: field('watch_ms'),
      filter: eventType('play'),
    });
    out.push({
      name: `watch_fraction_${w}`,
      kind: 'mean',
      window: w,
      value: watchFraction,
      filter: eventType('play'),
    });
    out.push({ name: `like_rate_${w}`, kind: 'ratio', numerator: `likes_${w}`, denominator: `plays_${w}` });
    out.push({ name: `share_rate_${w}`, kind: 'ratio', numerator: `shares_${w}`, denominator: `plays_${w}` });
    out.push({
      name: `completion_rate_${w}`,
      kind: 'ratio',
      numerator: `completions_${w}`,
      denominator: `plays_${w}`,
    });
    out.push({
      name: `skip_rate_${w}`,
      kind: 'ratio',
      numerator: `skips_${w}`,
      denominator: `impressions_${w}`,
    });
    out.push({
      name: `not_interested_rate_${w}`,
      kind: 'ratio',
      numerator: countName('not_interested', w),
      denominator: `impressions_${w}`,
    });
  }
  out.push({
    name: 'trending_score',
    kind: 'decayed_sum',
    window: '1d',
    halfLifeMs: 2 * MS_PER_HOUR,
    filter: and(eventType('play'), gt(watchFraction, 0.5)),
  });
  out.push({
    name: 'viewers_1d',
    kind: 'distinct_count',
    window: '1d',
    value: field('user_id'),
    filter: eventType('play'),
  });
  return out;
}

const count = (name: string, window: WindowName, ...types: string[]): AggregationDef => ({
  name,
  kind: 'count',
  window,
  filter: eventType(...types),
});

export const ITEM_STATS: FeatureViewDef = {
  name: 'item_stats',
  version: 1,
  entity: 'item',
  ttlMs: 30 * MS_PER_DAY,
  description:
    'Engagement of a video: counts per event kind, watch time and rates over 1 h, 1 d, 7 d and 30 d.',
  features: itemStatsFeatures(),
};

export const USER_ENGAGEMENT: FeatureViewDef = {
  name: 'user_engagement',
  version: 1,
  entity: 'user',
  ttlMs: 30 * MS_PER_DAY,
  description: "A user's recent activity and taste signals.",
  features: [
    count('plays_1h', '1h', 'play'),
    count('plays_1d', '1d', 'play'),
    count('plays_7d', '7d', 'play'),
    count('likes_7d', '7d', 'like'),
    count('shares_7d', '7d', 'share'),
    count('skips_1d', '1d', 'skip'),
    count('impressions_1d', '1d', 'impression'),
    count('follows_30d', '30d', 'follow'),
    count('not_interested_30d', '30d', 'not_interested'),
    { name: 'watch_ms_1d', kind: 'sum', window: '1d', value: field('watch_ms'), filter: eventType('play') },
    {
      name: 'watch_fraction_7d',
      kind: 'mean',
      window: '7d',
      value: watchFraction,
      filter: eventType('play'),
    },
    { name: 'like_rate_7d', kind: 'ratio', numerator: 'likes_7d', denominator: 'plays_7d' },
    { name: 'skip_rate_1d', kind: 'ratio', numerator: 'skips_1d', denominator: 'impressions_1d' },
    {
      name: 'engagement_decay',
      kind: 'decayed_sum',
      window: '1d',
      halfLifeMs: 6 * MS_PER_HOUR,
      filter: eventType('like', 'share', 'comment'),
    },
    {
      name: 'creators_7d',
      kind: 'distinct_count',
      window: '7d',
      value: field('creator_id'),
      filter: eventType('play'),
    },
    {
      name: 'engaged_items',
      kind: 'last_n',
      window: '7d',
      n: 20,
      value: field('item_id'),
      filter: and(eventType('play'), ge(watchFraction, 0.5)),
    },
    {
      name: 'liked_items',
      kind: 'last_n',
      window: '30d',
      n: 20,
      value: field('item_id'),
      filter: eventType('like'),
    },
  ],
};

export const CREATOR_STATS: FeatureViewDef = {
  name: 'creator_stats',
  version: 1,
  entity: 'creator',
  ttlMs: 30 * MS_PER_DAY,
  description: "How a creator's videos do.",
  features: [
    count('plays_7d', '7d', 'play'),
    count('likes_7d', '7d', 'like'),
    count('follows_30d', '30d', 'follow'),
    {
      name: 'watch_fraction_7d',
      kind: 'mean',
      window: '7d',
      value: watchFraction,
      filter: eventType('play'),
    },
    { name: 'like_rate_7d', kind: 'ratio', numerator: 'likes_7d', denominator: 'plays_7d' },
  ],
};

export const USER_CREATOR: FeatureViewDef = {
  name: 'user_creator',
  version: 2,
  entity: 'user_creator',
  ttlMs: 30 * MS_PER_DAY,
  description: 'How a user engages with one creator.',
  features: [
    count('plays_30d', '30d', 'play'),
    count('likes_30d', '30d', 'like'),
    count('follows_30d', '30d', 'follow'),
    {
      name: 'watch_fraction_30d',
      kind: 'mean',
      window: '30d',
      value: watchFraction,
      filter: eventType('play'),
    },
  ],
};

export const USER_HASHTAG: FeatureViewDef = {
  name: 'user_hashtag',
  version: 1,
  entity: 'user_hashtag',
  ttlMs: 30 * MS_PER_DAY,
  description: 'How a user engages with a hashtag.',
  features: [
    count('plays_7d', '7d', 'play'),
    { name: 'watch_ms_7d', kind: 'sum', window: '7d', value: field('watch_ms'), filter: eventType('play') },
    count('likes_30d', '30d', 'like'),
  ],
};

export const FORYOU_VIEWS: readonly FeatureViewDef[] = [
  USER_ENGAGEMENT,
  ITEM_STATS,
  CREATOR_STATS,
  USER_CREATOR,
  USER_HASHTAG,
];

export const FORYOU_SERVICES: readonly FeatureServiceDef[] = [
  { name: 'user_features', entity: 'user', features: ['user_engagement'] },
  { name: 'item_features', entity: 'item', features: ['item_stats'] },
  { name: 'creator_features', entity: 'creator', features: ['creator_stats'] },
  { name: 'user_creator_features', entity: 'user_creator', features: ['user_creator'] },
  { name: 'user_hashtag_features', entity: 'user_hashtag', features: ['user_hashtag'] },
];

export function foryouRegistry(): FeatureRegistry {
  return new FeatureRegistry(FORYOU_VIEWS, FORYOU_SERVICES);
}
