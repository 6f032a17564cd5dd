import { asItemId, asUserId, type ItemId } from '../core/ids.js';
import { malformed } from './dataset-errors.js';
import {
  expectFieldCount,
  type FieldLayout,
  parseDatasetId,
  parseDecimal,
  parseWholeNumber,
  shown,
} from './fields.js';
import type { Interaction } from './interaction.js';
import {
  type MovieLensLayout,
  type MovieLensLayoutOption,
  type MovieLensSource,
  resolveMovieLens,
} from './movielens-layout.js';
import { readTextLines } from './text-lines.js';

const NAMES = ['user', 'item', 'rating', 'timestamp'] as const;

interface RatingsFormat {
  layout: FieldLayout;
  split: (text: string) => string[];
  /** The header line, when the layout has one (it is optional: a file may start with data). */
  header: string | null;
}

const FORMATS: Readonly<Record<MovieLensLayout, RatingsFormat>> = {
  'latest-small': {
    layout: { separator: 'comma-separated', names: NAMES },
    split: (text) => text.split(','),
    header: 'userId,movieId,rating,timestamp',
  },
  '100k': {
    layout: { separator: 'tab-separated', names: NAMES },
    split: (text) => text.split('\t'),
    header: null,
  },
  '1m': {
    layout: { separator: '"::"-separated', names: NAMES },
    split: (text) => text.split('::'),
    header: null,
  },
};

export const movieLensUserId = (id: string) => asUserId(`ml-u${id}`);
export const movieLensItemId = (id: string): ItemId => asItemId(`ml-m${id}`);

/** Streams the ratings of a resolved MovieLens source, one interaction per line (value = stars). */
export async function* readRatings(source: MovieLensSource): AsyncGenerator<Interaction> {
  const format = FORMATS[source.layout];
  let first = true;
  for await (const at of readTextLines(source.ratingsPath, 'latin1')) {
    if (first) {
      first = false;
      if (format.header !== null && !/^\s*\d/.test(at.text)) {
        if (at.text.trim().toLowerCase() !== format.header.toLowerCase())
          throw malformed(at, `the header ${format.header}`, shown(at.text));
        continue;
      }
    }
    const fields = format.split(at.text);
    expectFieldCount(at, fields, format.layout);
    const [user, item, rating, timestamp] = fields as [string, string, string, string];
    yield {
      user: movieLensUserId(parseDatasetId(at, 'user', user)),
      item: movieLensItemId(parseDatasetId(at, 'item', item)),
      value: parseDecimal(at, 'rating', rating),
      ts: parseWholeNumber(at, 'timestamp (seconds)', timestamp) * 1000,
      line: at.line,
    };
  }
}

export interface MovieLensReadOptions {
  /** `auto` (default) detects the layout from the folder's files or the file's first line. */
  layout?: MovieLensLayoutOption;
}

/**
 * The low-level MovieLens reader: every rating of a folder or ratings file as an interaction
 * `{ user, item, value, ts }`, streamed in file order. Nothing is validated beyond the file layout.
 */
export async function* readMovieLensInteractions(
  path: string,
  options: MovieLensReadOptions = {},
): AsyncGenerator<Interaction> {
  yield* readRatings(await resolveMovieLens(path, options.layout ?? 'auto'));
}
