import type { ItemId, UserId } from '../core/ids.js';

/**
 * One user-item interaction as a dataset records it, before it becomes a core event. Ids are already the
 * Foryou ids the importers write (`ml-u1`, `ml-m31`, `lfm-a51`), so an evaluation that reads interactions
 * directly and a model trained on an imported world folder agree on every id.
 */
export interface Interaction {
  user: UserId;
  item: ItemId;
  /** MovieLens: the stars (0.5-5). Last.fm: the play count. */
  value: number;
  /** Epoch milliseconds. Last.fm has no times, so every interaction carries `LASTFM_TIMESTAMP_MS`. */
  ts: number;
  /** 1-based line of the source file the interaction came from (event ids are derived from it). */
  line: number;
}
