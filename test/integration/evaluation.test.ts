import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, type TestContext, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { Rng } from '../../src/core/rng.js';
import { evaluate, loadEvaluationDataset } from '../../src/evaluation/index.js';
import { captureOutput, folderWith, freshPath, tempFile } from '../helpers/index.js';

/**
 * The real datasets live outside the repository (their licences restrict redistribution): in
 * DATASETS_DIR, or in ../shared/datasets beside the checkout. Locally a missing folder skips the real-data
 * test with the reason; under CI (CI=true) it fails, so a broken CI setup cannot pass silently.
 */
const repo = fileURLToPath(new URL('../..', import.meta.url));
const datasets = resolve(process.env.DATASETS_DIR ?? join(repo, '..', 'shared', 'datasets'));
const ML_DIR = join(datasets, 'ml-latest-small');

function requireDataset(ctx: TestContext, dir: string, file: string): void {
  if (existsSync(join(dir, file))) return;
  const reason = `${join(dir, file)} not found (set DATASETS_DIR to the folder holding the shared datasets)`;
  if (process.env.CI === 'true') throw new Error(`CI must provide the real datasets: ${reason}`);
  ctx.skip(`skipped: ${reason}`);
}

afterEach(() => vi.restoreAllMocks());

describe('ml-latest-small under the Recommenders protocol (real data, published number)', () => {
  /**
   * The shared datasets README publishes popularity NDCG@10 = 0.221 on ml-latest-small under this protocol
   * with seed 42 (from a NumPy reference). Our seed 42 drives a different generator (SFC32, one stream per
   * user), so the split differs and so does the number: over seeds 1-20 ours averages 0.215 with a standard
   * deviation of 0.006. The test allows ±0.02 around the published value.
   */
  it('popularity scores NDCG@10 within ±0.02 of the published 0.221', async (ctx) => {
    requireDataset(ctx, ML_DIR, 'ratings.csv');
    const report = await evaluate({
      dataset: await loadEvaluationDataset('ml-latest-small', ML_DIR),
      protocol: 'recommenders',
      models: ['popularity'],
      seed: 42,
    });
    const ndcg = report.models[0]!.metrics['ndcg@10']!;
    console.info(
      `ml-latest-small, recommenders protocol, seed 42: popularity NDCG@10 = ${ndcg.toFixed(4)} (published 0.221)`,
    );
    expect(report.protocol).toMatchObject({ evaluatedUsers: 610, train: { interactions: 75_630 } });
    expect(report.protocol.test.interactions).toBe(100_836 - 75_630);
    expect(Math.abs(ndcg - 0.221)).toBeLessThanOrEqual(0.02);
  });
});

/** A small MovieLens-like ratings file: 40 users, 30 movies, popular movies rated more often. */
function tinyRatings(header: string | null, separator: string): string {
  const rng = new Rng(9);
  const lines = header ? [header] : [];
  for (let u = 1; u <= 40; u++) {
    const movies = new Set<number>();
    while (movies.size < 8 + (u % 5)) movies.add(1 + Math.floor(30 * rng.float() ** 2));
    for (const m of movies)
      lines.push([u, m * 10, 1 + rng.int(5), 964982703 + rng.int(10_000_000)].join(separator));
  }
  return `${lines.join('\n')}\n`;
}

function jsonLines(path: string): { user: string; items: string[] }[] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('foryou recommend', () => {
  it.each([
    ['u.data (tab-separated, no header)', 'u.data', tinyRatings(null, '\t')],
    [
      'ratings.csv (comma-separated, header)',
      'ratings.csv',
      tinyRatings('userId,movieId,rating,timestamp', ','),
    ],
  ])('writes top-N unseen items per user for %s, with the file ids', async (_name, file, text) => {
    const train = tempFile(file, text);
    const out = freshPath('recs.jsonl');
    const io = captureOutput();
    expect(
      await runCli(['recommend', '--train', train, '--model', 'popularity', '--k', '5', '--out', out]),
    ).toBe(0);
    expect(io.out()).toContain('wrote top-5 popularity recommendations for 40 users');
    const lines = jsonLines(out);
    expect(lines.map((l) => l.user)).toEqual(Array.from({ length: 40 }, (_, u) => String(u + 1)));
    const rows = text
      .trim()
      .split('\n')
      .filter((l) => /^\d/.test(l))
      .map((l) => l.split(/[\t,]/));
    const items = new Set(rows.map((r) => r[1]));
    for (const { user, items: recs } of lines) {
      const seen = new Set(rows.filter((r) => r[0] === user).map((r) => r[1]));
      expect(recs).toHaveLength(5);
      for (const item of recs) {
        expect(items.has(item), item).toBe(true); // an original movie id, e.g. "30", not "ml-m30"
        expect(seen.has(item), `${user} already has ${item}`).toBe(false);
      }
    }
  });

  it('keeps ids exactly as written (leading zeros, letters)', async () => {
    const train = tempFile('pairs.csv', 'user,item\n007,A\n007,B\nx-1,A\nx-1,C\nbob,A\n');
    const out = freshPath('recs.jsonl');
    captureOutput();
    expect(
      await runCli(['recommend', '--train', train, '--model', 'popularity', '--k', '2', '--out', out]),
    ).toBe(0);
    expect(jsonLines(out)).toEqual([
      { user: '007', items: ['C'] },
      { user: 'x-1', items: ['B'] },
      { user: 'bob', items: ['B', 'C'] },
    ]);
  });

  it.each([
    [['--model', 'nope'], 64, 'unknown model "nope"; expected one of popularity, trending'],
    [['--k', '0'], 64, 'expected a whole number from 1 to 100000, got 0'],
    [['--train', '/nonexistent/ratings.csv'], 66, '/nonexistent/ratings.csv does not exist'],
  ])('exits with a clear error on %j', async (args, code, message) => {
    const train = tempFile('u.data', tinyRatings(null, '\t'));
    const io = captureOutput();
    const base = ['recommend', '--train', train, '--model', 'popularity', '--out', freshPath('r.jsonl')];
    expect(await runCli([...base, ...args])).toBe(code);
    expect(io.err()).toContain(message);
  });

  it('refuses to overwrite its output unless --force', async () => {
    const train = tempFile('u.data', tinyRatings(null, '\t'));
    const out = tempFile('recs.jsonl', 'keep me\n');
    const io = captureOutput();
    const args = ['recommend', '--train', train, '--model', 'popularity', '--out', out];
    expect(await runCli(args)).toBe(73);
    expect(io.err()).toContain('error FY_OUTPUT_EXISTS');
    expect(readFileSync(out, 'utf8')).toBe('keep me\n');
    expect(await runCli([...args, '--force'])).toBe(0);
  });
});

describe('foryou eval', () => {
  it('prints the Markdown table and writes report.json and report.md', async () => {
    const dir = folderWith({ 'ratings.csv': tinyRatings('userId,movieId,rating,timestamp', ',') });
    const out = freshPath('report');
    const io = captureOutput();
    const args = [
      'eval',
      '--dataset',
      'ml-latest-small',
      '--path',
      dir,
      '--protocol',
      'recommenders',
      '--out',
      out,
    ];
    expect(await runCli([...args, '--models', 'popularity,trending', '--k', '3', '--quiet'])).toBe(0);
    expect(io.out()).toContain('| model | NDCG@3 | P@3 | R@3 | MAP@3 | MRR | HR@3 |');
    expect(io.out()).toMatch(/^\| popularity \| 0\.\d{4} \|/m);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe(io.out());
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.ks).toEqual([3, 5, 10, 20, 50]);
    expect(report.models.map((m: { name: string }) => m.name)).toEqual(['popularity', 'trending']);
    expect(report.protocol).toMatchObject({ name: 'recommenders', params: { seed: 42, ratio: 0.75 } });
    expect(await runCli([...args, '--quiet'])).toBe(73);
    expect(await runCli([...args, '--quiet', '--force', '--seed', '7'])).toBe(0);
  });

  it('runs the temporal protocol with a cut option', async () => {
    const dir = folderWith({ 'u.data': tinyRatings(null, '\t') });
    const io = captureOutput();
    const args = [
      'eval',
      '--dataset',
      'ml-100k',
      '--path',
      dir,
      '--protocol',
      'temporal',
      '--cut-quantile',
      '0.7',
    ];
    expect(await runCli([...args, '--models', 'popularity', '--quiet'])).toBe(0);
    expect(io.out()).toContain('temporal protocol');
    expect(io.out()).toContain('quantile 0.7');
  });

  it.each([
    [['--dataset', 'netflix'], 'unknown dataset "netflix"; expected ml-latest-small, ml-100k, ml-1m, lastfm'],
    [['--protocol', 'random'], 'unknown protocol "random"; expected recommenders, recbole, temporal'],
    [['--models', 'popularity,ease2'], 'unknown model "ease2"'],
    [
      ['--cut-quantile', '0.5'],
      '--cut-quantile and --cut-date apply to the temporal protocol, not recommenders',
    ],
  ])('exits 64 on %j', async (args, message) => {
    const dir = folderWith({ 'ratings.csv': tinyRatings('userId,movieId,rating,timestamp', ',') });
    const io = captureOutput();
    const base = [
      'eval',
      '--dataset',
      'ml-latest-small',
      '--path',
      dir,
      '--protocol',
      'recommenders',
      '--quiet',
    ];
    expect(await runCli([...base, ...args])).toBe(64);
    expect(io.err()).toContain(message);
  });

  it('exits 66 when the dataset folder is missing', async () => {
    const io = captureOutput();
    const args = [
      'eval',
      '--dataset',
      'ml-1m',
      '--path',
      '/nonexistent/ml-1m',
      '--protocol',
      'recbole',
      '--quiet',
    ];
    expect(await runCli(args)).toBe(66);
    expect(io.err()).toContain('error FY_DATASET_NOT_FOUND');
  });

  it('answers --help for both commands', async () => {
    for (const command of ['eval', 'recommend']) {
      const io = captureOutput();
      expect(await runCli([command, '--help'])).toBe(0);
      expect(io.out()).toContain(`Usage: foryou ${command}`);
      vi.restoreAllMocks();
    }
  });
});
