import type { ItemId } from '../core/ids.js';
import { RatingEventSchema } from '../core/schema/event.js';
import { ItemSchema } from '../core/schema/item.js';
import { parseRecord } from '../core/schema/validate.js';
import type { WorldManifest } from '../io/world-folder.js';
import { atLine } from './dataset-errors.js';
import type { Interaction } from './interaction.js';
import { type MovieLensLayoutOption, type MovieLensSource, resolveMovieLens } from './movielens-layout.js';
import { readMovieLensItems } from './movielens-movies.js';
import { readRatings } from './movielens-ratings.js';
import { type ImportOptions, writeWorld } from './world-import.js';

export interface MovieLensImportOptions extends ImportOptions {
  /** `auto` (default) detects the layout from the folder's files or the file's first line. */
  layout?: MovieLensLayoutOption;
}

/** The rating event of one MovieLens line: `ml-r<line>`, value = stars, ts = timestamp seconds × 1000. */
export function ratingEvent(source: MovieLensSource, r: Interaction) {
  return atLine({ path: source.ratingsPath, line: r.line }, () =>
    parseRecord(
      RatingEventSchema,
      {
        event_id: `ml-r${r.line}`,
        type: 'rating',
        user_id: r.user,
        item_id: r.item,
        ts: r.ts,
        value: r.value,
      },
      'event',
    ),
  );
}

/**
 * Imports a MovieLens folder or ratings file into a world folder at `outDir` (source "movielens", params
 * `{ path, layout }`) and returns its manifest. Users are `ml-u<id>` signed up at their first rating; items
 * are `ml-m<id>`: every movie of the movies file, plus any rated movie it lacks (with an empty caption).
 */
export async function importMovieLens(
  path: string,
  outDir: string,
  options: MovieLensImportOptions = {},
): Promise<WorldManifest> {
  const source = await resolveMovieLens(path, options.layout ?? 'auto');
  return writeWorld(
    {
      source: 'movielens',
      params: { path, layout: source.layout },
      catalogue: source.moviesPath ? readMovieLensItems(source.moviesPath, source.layout) : null,
      interactions: readRatings(source),
      toEvent: (r) => ratingEvent(source, r),
      signupTs: (first) => first,
      missingItem: (id: ItemId) => parseRecord(ItemSchema, { item_id: id, created_ts: 0 }, 'item'),
    },
    outDir,
    options,
  );
}
