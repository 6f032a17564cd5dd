import { z } from 'zod';
import { CreatorIdSchema } from '../ids.js';
import { CountrySchema, LanguageSchema, TimestampMsSchema, TopicSchema } from './fields.js';

export const CreatorSchema = z.strictObject({
  creator_id: CreatorIdSchema,
  name: z
    .string()
    .min(1, { error: 'must not be empty' })
    .max(100, { error: 'must be at most 100 characters' }),
  country: CountrySchema,
  language: LanguageSchema,
  /** The topics the creator mostly posts about. */
  topics: z.array(TopicSchema).max(10, { error: 'must list at most 10 topics' }).default([]),
  created_ts: TimestampMsSchema,
});

export type Creator = z.infer<typeof CreatorSchema>;
