import { z } from 'zod';
import { CreatorIdSchema, EventIdSchema, ItemIdSchema, RequestIdSchema, UserIdSchema } from '../ids.js';
import { TimestampMsSchema } from './fields.js';
import { MAX_DURATION_MS } from './item.js';

/** A watch can loop a video several times but not for more than a day. */
export const MAX_WATCH_MS = 86_400_000;

const base = {
  event_id: EventIdSchema,
  user_id: UserIdSchema,
  ts: TimestampMsSchema,
};

/** The feed request that showed the item, when the client knows it; it attributes the event to a ranking. */
const requestRef = { request_id: RequestIdSchema.optional() };

const watchMs = z
  .number({ error: 'must be a number of milliseconds' })
  .int({ error: 'must be a whole number of milliseconds' })
  .min(0, { error: 'must be >= 0' })
  .max(MAX_WATCH_MS, { error: 'must be at most one day (86,400,000 ms)' });

const durationMs = z
  .number({ error: 'must be a number of milliseconds' })
  .int({ error: 'must be a whole number of milliseconds' })
  .positive({ error: 'must be > 0' })
  .max(MAX_DURATION_MS, { error: 'must be at most one hour (3,600,000 ms)' });

export const ImpressionEventSchema = z.strictObject({
  ...base,
  type: z.literal('impression'),
  item_id: ItemIdSchema,
  request_id: RequestIdSchema,
  position: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(0, { error: 'must be >= 0 (the first slot of a feed page is 0)' })
    .max(100_000, { error: 'must be at most 100,000' }),
});

export const PlayEventSchema = z.strictObject({
  ...base,
  ...requestRef,
  type: z.literal('play'),
  item_id: ItemIdSchema,
  watch_ms: watchMs,
  duration_ms: durationMs,
});

export const LikeEventSchema = z.strictObject({
  ...base,
  ...requestRef,
  type: z.literal('like'),
  item_id: ItemIdSchema,
});
export const ShareEventSchema = z.strictObject({
  ...base,
  ...requestRef,
  type: z.literal('share'),
  item_id: ItemIdSchema,
});

export const CommentEventSchema = z.strictObject({
  ...base,
  ...requestRef,
  type: z.literal('comment'),
  item_id: ItemIdSchema,
  text: z.string().max(2000, { error: 'must be at most 2,000 characters' }).optional(),
});

export const FollowEventSchema = z.strictObject({
  ...base,
  ...requestRef,
  type: z.literal('follow'),
  creator_id: CreatorIdSchema,
  /** The video the user was watching when they followed, if any. */
  item_id: ItemIdSchema.optional(),
});

/** The user swiped away early; `watch_ms` is how long they stayed. */
export const SkipEventSchema = z.strictObject({
  ...base,
  ...requestRef,
  type: z.literal('skip'),
  item_id: ItemIdSchema,
  watch_ms: watchMs,
});

export const NotInterestedEventSchema = z.strictObject({
  ...base,
  ...requestRef,
  type: z.literal('not_interested'),
  item_id: ItemIdSchema,
});

export const SearchEventSchema = z.strictObject({
  ...base,
  ...requestRef,
  type: z.literal('search'),
  query: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(500, { error: 'must be at most 500 characters' }),
});

/** Explicit feedback, as imported from rating datasets (MovieLens stars). */
export const RatingEventSchema = z.strictObject({
  ...base,
  type: z.literal('rating'),
  item_id: ItemIdSchema,
  value: z
    .number({ error: 'must be a number' })
    .min(0, { error: 'must be >= 0' })
    .max(10, { error: 'must be at most 10' }),
});

/** Plays aggregated over a period, as imported from logs without per-play times (Last.fm HetRec). */
export const PlayCountEventSchema = z.strictObject({
  ...base,
  type: z.literal('play_count'),
  item_id: ItemIdSchema,
  count: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .positive({ error: 'must be > 0' }),
});

const EVENT_SCHEMAS = [
  ImpressionEventSchema,
  PlayEventSchema,
  LikeEventSchema,
  ShareEventSchema,
  CommentEventSchema,
  FollowEventSchema,
  SkipEventSchema,
  NotInterestedEventSchema,
  SearchEventSchema,
  RatingEventSchema,
  PlayCountEventSchema,
] as const;

export const EVENT_TYPES = EVENT_SCHEMAS.map((s) => s.shape.type.value);

export const EventSchema = z.discriminatedUnion('type', EVENT_SCHEMAS, {
  error: (issue) =>
    issue.code === 'invalid_union' && issue.input !== null && typeof issue.input === 'object'
      ? `must be one of ${EVENT_TYPES.join(', ')}`
      : undefined,
});

export type Event = z.infer<typeof EventSchema>;
export type EventType = Event['type'];
export type EventOf<T extends EventType> = Extract<Event, { type: T }>;
export type ImpressionEvent = EventOf<'impression'>;
export type PlayEvent = EventOf<'play'>;
