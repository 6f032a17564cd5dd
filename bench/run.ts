/**
 * npm run bench [-- NAME... | --quick | --list] [-- FLAGS...]
 *
 * Runs bench/NAME.bench.ts scripts (all of them without names), each in its own process, one after the
 * other. Their stderr streams through; their stdout JSON lines are the results. Results are appended to
 * bench/results/<yyyy-mm-dd>.jsonl and full-mode results regenerate their block of bench/RESULTS.md.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type BenchResult, parseResultLine } from './harness/report.js';
import { updateResultsMarkdown } from './harness/results-md.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const SUFFIX = '.bench.ts';

const USAGE = `usage: npm run bench [-- [NAME...] [--quick] [--list] [-- FLAGS...]]

  NAME     run only bench/NAME.bench.ts (default: every benchmark)
  --quick  smaller sizes for a smoke run; results go to bench/results/ but never into RESULTS.md
  --list   list the benchmarks and exit
  -- FLAGS passed to each benchmark script as they are (npm run bench -- feed -- --items 1000000)`;

function available(): string[] {
  return readdirSync(benchDir)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

interface Outcome {
  bench: string;
  results: BenchResult[];
  error?: string;
}

function runOne(bench: string, quick: boolean, own: readonly string[]): Promise<Outcome> {
  const script = join(benchDir, `${bench}${SUFFIX}`);
  const args = ['--import', 'tsx', script, ...(quick ? ['--quick'] : []), ...own];
  process.stderr.write(
    `\n== ${bench}: node ${args.map((a) => (a === script ? relative(root, a) : a)).join(' ')}\n`,
  );
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const results: BenchResult[] = [];
  const problems: string[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    try {
      const result = parseResultLine(line);
      if (result === null) process.stdout.write(`${line}\n`);
      else if (result.bench !== bench)
        problems.push(`result "${result.name}" names benchmark "${result.bench}", expected "${bench}"`);
      else results.push(result);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  });
  const closed = new Promise<void>((resolve) => lines.once('close', resolve));
  return new Promise((resolve) => {
    child.once('error', (error) =>
      resolve({ bench, results: [], error: `could not start: ${error.message}` }),
    );
    child.once('close', async (code, signal) => {
      await closed;
      let error: string | undefined;
      if (code !== 0) error = signal ? `killed by ${signal}` : `exited with code ${code}`;
      else if (problems.length > 0) error = problems.join('\n  ');
      else if (results.length === 0) error = 'printed no result line (call report() from bench/harness)';
      resolve(error === undefined ? { bench, results } : { bench, results: [], error });
    });
  });
}

async function main(given: string[]): Promise<number> {
  // Everything after a `--` goes to each benchmark script as it is (its own flags, like feed's --items).
  const cut = given.indexOf('--');
  const argv = cut < 0 ? given : given.slice(0, cut);
  const own = cut < 0 ? [] : given.slice(cut + 1);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const flags = argv.filter((a) => a.startsWith('-'));
  const unknownFlags = flags.filter((f) => f !== '--quick' && f !== '--list');
  if (unknownFlags.length > 0) {
    console.error(`bench: unknown option ${unknownFlags.join(' ')}\n${USAGE}`);
    return 2;
  }
  const all = available();
  if (argv.includes('--list')) {
    for (const name of all) console.log(name);
    return 0;
  }
  const quick = argv.includes('--quick');
  const names = argv
    .filter((a) => !a.startsWith('-'))
    .map((a) => a.replace(/^bench\//, '').replace(/\.bench\.ts$/, ''));
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    console.error(`bench: no benchmark named ${unknown.join(', ')}; available: ${all.join(', ') || 'none'}`);
    return 2;
  }
  const selected = names.length > 0 ? [...new Set(names)] : all;
  if (selected.length === 0) {
    console.error('bench: no bench/*.bench.ts files');
    return 2;
  }

  const outcomes: Outcome[] = [];
  for (const bench of selected) outcomes.push(await runOne(bench, quick, own));

  const results = outcomes.flatMap((o) => o.results);
  if (results.length > 0) {
    const resultsDir = join(benchDir, 'results');
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${new Date().toISOString().slice(0, 10)}.jsonl`);
    appendFileSync(file, results.map((r) => `${JSON.stringify(r)}\n`).join(''));
    console.log(`\nbench: ${results.length} result(s) appended to ${relative(root, file)}`);

    const mdPath = join(benchDir, 'RESULTS.md');
    const before = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '# Benchmark results\n';
    const update = updateResultsMarkdown(before, results);
    if (update.markdown !== before) writeFileSync(mdPath, update.markdown);
    if (update.updated.length > 0)
      console.log(`bench: ${relative(root, mdPath)} updated for ${update.updated.join(', ')}`);
    if (update.skippedQuick.length > 0)
      console.log(
        `bench: --quick results (${update.skippedQuick.join(', ')}) are not written to ${relative(root, mdPath)}`,
      );
  }

  const failed = outcomes.filter((o) => o.error !== undefined);
  for (const o of failed) console.error(`bench: ${o.bench} FAILED: ${o.error}`);
  if (failed.length > 0) {
    console.error(
      `bench: ${failed.length} of ${outcomes.length} benchmark(s) failed; their results were discarded`,
    );
    return 1;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
