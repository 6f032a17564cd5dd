import { z } from 'zod';

/** Latest accepted timestamp: 2100-01-01T00:00:00Z. Anything later is a unit mistake (seconds vs ms, µs). */
export const MAX_TS_MS = 4_102_444_800_000;

export const TimestampMsSchema = z
  .number({ error: 'must be a number of milliseconds since 1970-01-01T00:00:00Z' })
  .int({ error: 'must be a whole number of milliseconds since the epoch' })
  .min(0, { error: 'must be milliseconds since the epoch, not negative' })
  .max(MAX_TS_MS, {
    error: 'is after the year 2100: is it in microseconds? Send milliseconds since the epoch',
  });

/** ISO 3166-1 alpha-2, upper case ("US", "JP"). */
export const CountrySchema = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Z]{2}$/, { error: 'must be an ISO 3166-1 alpha-2 code in upper case, like "US" or "JP"' });

/** A BCP 47 language tag, primary subtag and optional region ("en", "zh-CN", "pt-BR"). */
export const LanguageSchema = z
  .string({ error: 'must be a string' })
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, {
    error: 'must be a BCP 47 language tag, like "en", "ja" or "zh-CN"',
  });

/** A topic or interest name: lower-case words joined by hyphens ("street-food"). */
export const TopicSchema = z
  .string({ error: 'must be a string' })
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, {
    error: 'must be lower-case words joined by hyphens, like "street-food"',
  })
  .max(64, { error: 'must be at most 64 characters' });

/** A hashtag without its '#': letters and digits of any script, and underscores. */
export const HashtagSchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'must be at most 100 characters' })
  .regex(/^[\p{L}\p{N}_]+$/u, { error: 'must be letters, digits or "_" only, without the leading "#"' });
