import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import { isFile, malformed, requirePath } from './dataset-errors.js';
import { readTextLines } from './text-lines.js';

/**
 * The MovieLens file layouts. `latest-small` also covers the other CSV releases (ml-latest, ml-20m, ml-25m,
 * ml-32m); `1m` also covers ml-10m, which uses the same "::" files.
 */
export const MOVIELENS_LAYOUTS = ['latest-small', '100k', '1m'] as const;
export type MovieLensLayout = (typeof MOVIELENS_LAYOUTS)[number];
export type MovieLensLayoutOption = MovieLensLayout | 'auto';

/** The ratings file and the optional movies file of each layout. */
export const MOVIELENS_FILES: Readonly<Record<MovieLensLayout, { ratings: string; movies: string }>> = {
  'latest-small': { ratings: 'ratings.csv', movies: 'movies.csv' },
  '100k': { ratings: 'u.data', movies: 'u.item' },
  '1m': { ratings: 'ratings.dat', movies: 'movies.dat' },
};

const EXPECTED =
  'a MovieLens folder holding ratings.csv (latest-small), u.data (100k) or ratings.dat (1m, 10m), or one ratings file';

/** A MovieLens dataset on disk, with its layout settled. */
export interface MovieLensSource {
  /** The path the caller gave (folder or ratings file). */
  path: string;
  layout: MovieLensLayout;
  ratingsPath: string;
  /** The titles and genres file, or null when the folder has none (items then get empty captions). */
  moviesPath: string | null;
}

export function isMovieLensLayout(value: string): value is MovieLensLayout {
  return (MOVIELENS_LAYOUTS as readonly string[]).includes(value);
}

/** Guesses the layout of a single ratings file from its first line: "::" (1m), a tab (100k) or a comma. */
async function sniffLayout(file: string): Promise<MovieLensLayout> {
  for await (const { text } of readTextLines(file, 'latin1')) {
    if (text.includes('::')) return '1m';
    if (text.includes('\t')) return '100k';
    if (text.includes(',')) return 'latest-small';
    throw malformed(
      { path: file, line: 1 },
      'a MovieLens ratings line separated by ",", a tab or "::"',
      JSON.stringify(text.slice(0, 40)),
    );
  }
  throw malformed({ path: file, line: 1 }, 'MovieLens ratings', 'an empty file; pass the layout explicitly');
}

async function detectFolderLayout(dir: string): Promise<MovieLensLayout> {
  const names = new Set(await readdir(dir));
  const found = MOVIELENS_LAYOUTS.filter((layout) => names.has(MOVIELENS_FILES[layout].ratings));
  if (found.length === 1) return found[0] as MovieLensLayout;
  if (found.length === 0)
    throw new ForyouError(
      'FY_DATASET_NOT_FOUND',
      `${dir} holds no MovieLens ratings file; expected ${EXPECTED}`,
      {
        details: { path: dir, expected: EXPECTED },
      },
    );
  throw new ForyouError(
    'FY_INVALID_ARGUMENT',
    `${dir} holds ${found.map((l) => MOVIELENS_FILES[l].ratings).join(' and ')}; choose one with the layout option (${found.join(', ')})`,
    { details: { path: dir, layouts: found } },
  );
}

/**
 * Settles where a MovieLens dataset's files are. `path` is a folder (the layout comes from the ratings file
 * it holds, unless given) or a single ratings file (for example ml-100k's `u1.base`; the layout comes from
 * its first line). The layout's movies file is used when it sits beside the ratings file.
 */
export async function resolveMovieLens(
  path: string,
  layout: MovieLensLayoutOption = 'auto',
): Promise<MovieLensSource> {
  if (layout !== 'auto' && !isMovieLensLayout(layout))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `unknown MovieLens layout "${layout}"; expected auto, ${MOVIELENS_LAYOUTS.join(', ')}`,
    );
  if (await isFile(path)) {
    const resolved = layout === 'auto' ? await sniffLayout(path) : layout;
    const movies = join(dirname(path), MOVIELENS_FILES[resolved].movies);
    const moviesPath = basename(path) !== basename(movies) && (await isFile(movies)) ? movies : null;
    return { path, layout: resolved, ratingsPath: path, moviesPath };
  }
  await requirePath(path, 'folder', EXPECTED);
  const resolved = layout === 'auto' ? await detectFolderLayout(path) : layout;
  const files = MOVIELENS_FILES[resolved];
  const ratingsPath = join(path, files.ratings);
  await requirePath(ratingsPath, 'file', `the ${resolved} ratings file ${files.ratings}`);
  const movies = join(path, files.movies);
  return { path, layout: resolved, ratingsPath, moviesPath: (await isFile(movies)) ? movies : null };
}
