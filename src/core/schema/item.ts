import { z } from 'zod';
import { CreatorIdSchema, ItemIdSchema } from '../ids.js';
import { HashtagSchema, LanguageSchema, TimestampMsSchema } from './fields.js';

/** Longest accepted video: one hour. */
export const MAX_DURATION_MS = 3_600_000;

/**
 * A video in the catalogue. `creator_id`, `language` and `duration_ms` are optional because imported
 * catalogues (MovieLens, Last.fm) do not have them; the simulator and live clients always send them.
 */
export const ItemSchema = z.strictObject({
  item_id: ItemIdSchema,
  creator_id: CreatorIdSchema.optional(),
  caption: z.string().max(2200, { error: 'must be at most 2,200 characters' }).default(''),
  hashtags: z.array(HashtagSchema).max(30, { error: 'must list at most 30 hashtags' }).default([]),
  language: LanguageSchema.optional(),
  duration_ms: z
    .number()
    .int({ error: 'must be a whole number of milliseconds' })
    .positive({ error: 'must be > 0 milliseconds' })
    .max(MAX_DURATION_MS, { error: 'must be at most one hour (3,600,000 ms)' })
    .optional(),
  created_ts: TimestampMsSchema,
});

export type Item = z.infer<typeof ItemSchema>;
