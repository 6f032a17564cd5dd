import { z } from 'zod';
import { UserIdSchema } from '../ids.js';
import { CountrySchema, LanguageSchema, TimestampMsSchema, TopicSchema } from './fields.js';

export const UserSchema = z.strictObject({
  user_id: UserIdSchema,
  /** Unknown for imported datasets; the simulator and live clients send both. */
  country: CountrySchema.optional(),
  language: LanguageSchema.optional(),
  signup_ts: TimestampMsSchema,
  /** Topics the user picked at sign-up; may disagree with what they actually watch. */
  interests: z.array(TopicSchema).max(20, { error: 'must list at most 20 interests' }).default([]),
});

export type User = z.infer<typeof UserSchema>;
