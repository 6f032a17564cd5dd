import { z } from 'zod';
import { UserIdSchema } from '../ids.js';
import { CountrySchema, LanguageSchema, TimestampMsSchema, TopicSchema } from './fields.js';

export const UserSchema = z.strictObject({
  user_id: UserIdSchema,
  country: CountrySchema,
  language: LanguageSchema,
  signup_ts: TimestampMsSchema,
  /** Topics the user picked at sign-up; may disagree with what they actually watch. */
  interests: z.array(TopicSchema).max(20, { error: 'must list at most 20 interests' }).default([]),
});

export type User = z.infer<typeof UserSchema>;
