import type { Lake } from '../lake/lake.js';
import type { RawInteraction } from './interactions.js';

/**
 * The positive interactions the retrieval models learn from, read from the lake: a like, share, comment or
 * follow-worthy watch counts as a positive; so does a play that held the user for at least
 * `minWatchFraction` of the video. Each (user, item) keeps its strongest signal and newest time.
 */
export interface LakeInteractionOptions {
  minWatchFraction?: number;
  /** Only events before this time (epoch ms): a training cut. */
  beforeMs?: number;
}

export async function readLakeInteractions(
  lake: Lake,
  options: LakeInteractionOptions = {},
): Promise<RawInteraction[]> {
  const minWatch = options.minWatchFraction ?? 0.5;
  const before = options.beforeMs === undefined ? '' : `AND epoch_ms(ts) < ${Math.floor(options.beforeMs)}`;
  const rows = await lake.query<{ user_id: string; item_id: string; value: number; ts: number }>(
    `SELECT user_id, item_id, max(weight)::DOUBLE AS value, max(epoch_ms(ts))::DOUBLE AS ts FROM (
       SELECT user_id, item_id, ts, CASE type WHEN 'share' THEN 3 WHEN 'like' THEN 2 WHEN 'comment' THEN 2 ELSE 1 END AS weight
       FROM events
       WHERE item_id IS NOT NULL ${before}
         AND (type IN ('like', 'share', 'comment')
              OR (type = 'play' AND duration_ms > 0 AND watch_ms >= ${minWatch} * duration_ms)
              OR type IN ('rating', 'play_count'))
     ) GROUP BY user_id, item_id`,
  );
  return rows.map((r) => ({ user: r.user_id, item: r.item_id, value: Number(r.value), ts: Number(r.ts) }));
}
