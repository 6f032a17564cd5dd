import type { Command } from 'commander';
import { ForyouError } from '../../core/errors.js';
import {
  type ImportOptions,
  importLastfm,
  importMovieLens,
  isMovieLensLayout,
  MOVIELENS_LAYOUTS,
  type MovieLensLayoutOption,
} from '../../datasets/index.js';
import type { WorldFormat, WorldManifest } from '../../io/world-folder.js';
import { formatsOption } from '../program.js';

/** Parses `--layout`: auto or one of the MovieLens layouts. */
export function layoutOption(value: string): MovieLensLayoutOption {
  if (value === 'auto' || isMovieLensLayout(value)) return value;
  throw new ForyouError(
    'FY_INVALID_ARGUMENT',
    `--layout expects auto, ${MOVIELENS_LAYOUTS.join(', ')}, got "${value}"`,
    { details: { option: '--layout', value } },
  );
}

interface CommonFlags {
  path: string;
  out: string;
  format?: WorldFormat[];
  force?: boolean;
  quiet?: boolean;
}

function importOptions(flags: CommonFlags): ImportOptions {
  const log = (text: string) => {
    if (!flags.quiet) process.stderr.write(`${text}\n`);
  };
  return {
    ...(flags.format ? { formats: flags.format } : {}),
    force: flags.force ?? false,
    progressEvery: 1_000_000,
    onProgress: (events) => log(`  ${events.toLocaleString('en-US')} events read`),
    onTable: (table) => log(`  writing ${table}.parquet`),
  };
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The summary printed at the end of an import: where it went, counts and the time range. */
export function formatSummary(manifest: WorldManifest, outDir: string): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const { counts, timeRange, params } = manifest;
  const range = timeRange ? `${isoDate(timeRange.startMs)} .. ${isoDate(timeRange.endMs)}` : 'no events';
  return [
    `imported ${manifest.source} (${String(params.layout)}) into ${outDir}`,
    `  users   ${n(counts.users)}`,
    `  items   ${n(counts.items)}`,
    `  events  ${n(counts.events)}`,
    `  time    ${range}`,
    `  formats ${manifest.formats.join(', ')}`,
    '',
  ].join('\n');
}

function withCommonOptions(command: Command): Command {
  return command
    .requiredOption('--out <dir>', 'output world folder (must be empty unless --force)')
    .option(
      '--format <list>',
      'output formats, comma-separated: jsonl, parquet (default: both)',
      formatsOption,
    )
    .option('--force', 'replace what is already in the output folder')
    .option('--quiet', 'print only the final summary');
}

export function registerImportCommands(program: Command): void {
  const group = program
    .command('import')
    .description('import a public dataset (MovieLens, Last.fm HetRec 2011) as a world folder');

  withCommonOptions(
    group
      .command('movielens')
      .description(
        'import MovieLens ratings (ml-latest-small and other CSV releases, ml-100k, ml-1m, ml-10m) as rating events',
      )
      .requiredOption('--path <dir|file>', 'the unpacked dataset folder, or a single ratings file')
      .option(
        '--layout <layout>',
        `file layout: auto, ${MOVIELENS_LAYOUTS.join(', ')} (1m also reads ml-10m)`,
        layoutOption,
        'auto' as MovieLensLayoutOption,
      ),
  ).action(async (flags: CommonFlags & { layout: MovieLensLayoutOption }) => {
    const manifest = await importMovieLens(flags.path, flags.out, {
      ...importOptions(flags),
      layout: flags.layout,
    });
    process.stdout.write(formatSummary(manifest, flags.out));
  });

  withCommonOptions(
    group
      .command('lastfm')
      .description(
        'import Last.fm HetRec 2011 play counts (user_artists.dat, artists.dat) as play_count events',
      )
      .requiredOption('--path <dir>', 'the unpacked hetrec2011-lastfm-2k folder (or its user_artists.dat)'),
  ).action(async (flags: CommonFlags) => {
    const manifest = await importLastfm(flags.path, flags.out, importOptions(flags));
    process.stdout.write(formatSummary(manifest, flags.out));
  });
}
