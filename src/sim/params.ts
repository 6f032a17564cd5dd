import { z } from 'zod';
import { ForyouError } from '../core/errors.js';
import { formatIssues, safeParseRecord } from '../core/schema/validate.js';

/** The knobs of a simulated world. Same params, same world and history, byte for byte. */
export const WorldParamsSchema = z.strictObject({
  seed: z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be >= 0' }).default(42),
  users: z
    .number()
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(20_000_000, { error: 'must be at most 20,000,000' })
    .default(10_000),
  items: z
    .number()
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(20_000_000, { error: 'must be at most 20,000,000' })
    .default(10_000),
  /** Defaults to one creator per 20 items. */
  creators: z
    .number()
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .optional(),
  days: z
    .number({ error: 'must be a number' })
    .positive({ error: 'must be > 0' })
    .max(366, { error: 'must be at most 366' })
    .default(7),
  /** Start of the simulated period, epoch ms (UTC midnight recommended). */
  startMs: z
    .number()
    .int()
    .min(0)
    .default(Date.UTC(2026, 0, 5)),
  /** Mean sessions per user per day; individual rates are heavy-tailed around it. */
  sessionsPerDay: z
    .number()
    .positive({ error: 'must be > 0' })
    .max(50, { error: 'must be at most 50' })
    .default(0.6),
  /** Share of the catalogue uploaded before the period starts (spread over `backCatalogueDays`). */
  backCatalogueShare: z.number().min(0).max(1).default(0.3),
  backCatalogueDays: z.number().positive().default(60),
  /** Share of users who sign up during the period rather than before it. */
  newUserShare: z.number().min(0).max(1).default(0.1),
  /** Items per feed request (page). */
  pageSize: z.number().int().min(1).max(100).default(10),
});

export type WorldParams = z.infer<typeof WorldParamsSchema>;
export type WorldParamsInput = z.input<typeof WorldParamsSchema>;

export function resolveWorldParams(input: WorldParamsInput): WorldParams & { creators: number } {
  const result = safeParseRecord(WorldParamsSchema, input);
  if (!result.ok)
    throw new ForyouError('FY_INVALID_ARGUMENT', `invalid world parameters: ${formatIssues(result.issues)}`, {
      details: { issues: result.issues },
    });
  const params = result.value;
  return { ...params, creators: params.creators ?? Math.max(1, Math.round(params.items / 20)) };
}
