import { type Item, ItemSchema } from '../core/schema/item.js';
import { parseRecord } from '../core/schema/validate.js';
import { atLine, type LineRef, malformed } from './dataset-errors.js';
import { expectFieldCount, type FieldLayout, parseDatasetId, shown, splitCsvLine } from './fields.js';
import { createdTsOfTitle, genreHashtags } from './movie-titles.js';
import type { MovieLensLayout } from './movielens-layout.js';
import { movieLensItemId } from './movielens-ratings.js';
import { readTextLines, type TextLine } from './text-lines.js';

/** The 19 genre flags of ml-100k's `u.item`, in column order (the file `u.genre` lists the same). */
export const ML100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
] as const;

const CSV_LAYOUT: FieldLayout = { separator: 'comma-separated', names: ['movieId', 'title', 'genres'] };
const CSV_HEADER = 'movieId,title,genres';
const DAT_LAYOUT: FieldLayout = { separator: '"::"-separated', names: ['id', 'title', 'genres'] };
const ITEM_LAYOUT: FieldLayout = {
  separator: 'pipe-separated',
  names: ['id', 'title', 'release_date', 'video_release_date', 'imdb_url', ...ML100K_GENRES],
  summary: 'movie id|title|release date|video release date|IMDb URL|19 genre flags',
};

interface Movie {
  id: string;
  title: string;
  genres: string[];
}

function fromCsv(at: TextLine): Movie | null {
  const fields = splitCsvLine(at.text);
  if (fields === null)
    throw malformed(
      at,
      `${CSV_LAYOUT.names.length} comma-separated fields with closed quotes`,
      shown(at.text),
    );
  if (at.line === 1 && fields[0]?.trim() === 'movieId') {
    if (at.text.trim() !== CSV_HEADER) throw malformed(at, `the header ${CSV_HEADER}`, shown(at.text));
    return null;
  }
  expectFieldCount(at, fields, CSV_LAYOUT);
  const [id, title, genres] = fields as [string, string, string];
  return { id: parseDatasetId(at, 'movieId', id), title, genres: genres.split('|') };
}

function fromDat(at: TextLine): Movie {
  const fields = at.text.split('::');
  expectFieldCount(at, fields, DAT_LAYOUT);
  const [id, title, genres] = fields as [string, string, string];
  return { id: parseDatasetId(at, 'movie id', id), title, genres: genres.split('|') };
}

function fromItem(at: TextLine): Movie {
  const fields = at.text.split('|');
  expectFieldCount(at, fields, ITEM_LAYOUT);
  const flags = fields.slice(5);
  const genres: string[] = [];
  flags.forEach((flag, i) => {
    if (flag !== '0' && flag !== '1')
      throw malformed(at, `genre flag ${ML100K_GENRES[i]} (field ${i + 6}) to be 0 or 1`, shown(flag));
    if (flag === '1') genres.push(ML100K_GENRES[i] as string);
  });
  return { id: parseDatasetId(at, 'movie id', fields[0] as string), title: fields[1] as string, genres };
}

const PARSERS: Readonly<Record<MovieLensLayout, (at: TextLine) => Movie | null>> = {
  'latest-small': fromCsv,
  '100k': fromItem,
  '1m': fromDat,
};

/** The core item of a movie: caption = title, hashtags from genres, created_ts from the title's year. */
export function movieItem(at: LineRef, movie: Movie): Item {
  const caption = movie.title.trim();
  return atLine(at, () =>
    parseRecord(
      ItemSchema,
      {
        item_id: movieLensItemId(movie.id),
        caption,
        hashtags: genreHashtags(movie.genres),
        created_ts: createdTsOfTitle(caption),
      },
      'item',
    ),
  );
}

/**
 * Streams a MovieLens movies file (`movies.csv`, `u.item` or `movies.dat`) as validated core items. Each
 * line is decoded as UTF-8 when it is valid UTF-8 and as Latin-1 otherwise (ml-100k and ml-1m are Latin-1).
 */
export async function* readMovieLensItems(moviesPath: string, layout: MovieLensLayout): AsyncGenerator<Item> {
  const parse = PARSERS[layout];
  for await (const at of readTextLines(moviesPath, 'auto')) {
    const movie = parse(at);
    if (movie !== null) yield movieItem(at, movie);
  }
}
