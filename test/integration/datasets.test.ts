import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, type TestContext, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import {
  importLastfm,
  importMovieLens,
  LASTFM_TIMESTAMP_MS,
  readLastfmInteractions,
  readMovieLensInteractions,
} from '../../src/datasets/index.js';
import { WorldFolder } from '../../src/io/world-folder.js';
import { captureOutput, folderWith, freshPath } from '../helpers/index.js';

/**
 * The real datasets live outside the repository (their licences restrict redistribution): in
 * DATASETS_DIR, or in ../shared/datasets beside the checkout. Locally a missing folder skips these tests
 * with the reason; under CI (CI=true) it fails them, so a broken CI setup cannot pass silently.
 */
const repo = fileURLToPath(new URL('../..', import.meta.url));
const datasets = resolve(process.env.DATASETS_DIR ?? join(repo, '..', 'shared', 'datasets'));
const ML_DIR = join(datasets, 'ml-latest-small');
const LFM_DIR = join(datasets, 'lastfm-2k');

function requireDataset(ctx: TestContext, dir: string, file: string): void {
  if (existsSync(join(dir, file))) return;
  const reason = `${join(dir, file)} not found (set DATASETS_DIR to the folder holding the shared datasets)`;
  if (process.env.CI === 'true') throw new Error(`CI must provide the real datasets: ${reason}`);
  ctx.skip(`skipped: ${reason}`);
}

describe('ml-latest-small (real data, published counts)', () => {
  it('has 100,836 ratings by 610 users over 9,724 of its movies', async (ctx) => {
    requireDataset(ctx, ML_DIR, 'ratings.csv');
    const users = new Set<string>();
    const items = new Set<string>();
    let ratings = 0;
    let minTs = Number.POSITIVE_INFINITY;
    let maxTs = 0;
    for await (const r of readMovieLensInteractions(ML_DIR)) {
      ratings++;
      users.add(r.user);
      items.add(r.item);
      expect(r.value >= 0.5 && r.value <= 5).toBe(true);
      minTs = Math.min(minTs, r.ts);
      maxTs = Math.max(maxTs, r.ts);
    }
    expect([ratings, users.size, items.size]).toEqual([100_836, 610, 9_724]);
    expect(new Date(minTs).toISOString().slice(0, 10)).toBe('1996-03-29');
    expect(new Date(maxTs).toISOString().slice(0, 10)).toBe('2018-09-24');
  });

  it('imports as 610 users, 9,742 items (every movie) and 100,836 rating events', async (ctx) => {
    requireDataset(ctx, ML_DIR, 'ratings.csv');
    const out = freshPath('world', 'foryou-real-ml-');
    const manifest = await importMovieLens(ML_DIR, out);
    expect(manifest.params).toEqual({ path: ML_DIR, layout: 'latest-small' });
    expect(manifest.counts).toEqual({ users: 610, creators: 0, items: 9_742, events: 100_836 });
    expect(manifest.formats).toEqual(['jsonl', 'parquet']);
    const world = await WorldFolder.open(out);
    for await (const item of world.records('items')) {
      if (item.item_id !== 'ml-m29') continue;
      expect(item.caption).toBe('City of Lost Children, The (Cité des enfants perdus, La) (1995)');
      expect(item.hashtags).toEqual(['Adventure', 'Drama', 'Fantasy', 'Mystery', 'SciFi']);
    }
  });
});

describe('Last.fm HetRec 2011 (real data, published counts)', () => {
  it('has 92,834 user-artist rows, 1,892 users and 17,632 artists, all named in artists.dat', async (ctx) => {
    requireDataset(ctx, LFM_DIR, 'user_artists.dat');
    const users = new Set<string>();
    const artists = new Set<string>();
    let rows = 0;
    for await (const p of readLastfmInteractions(LFM_DIR)) {
      rows++;
      users.add(p.user);
      artists.add(p.item);
      expect(p.ts).toBe(LASTFM_TIMESTAMP_MS);
    }
    expect([rows, users.size, artists.size]).toEqual([92_834, 1_892, 17_632]);

    const out = freshPath('world', 'foryou-real-lfm-');
    const manifest = await importLastfm(LFM_DIR, out, { formats: ['jsonl'] });
    // 17,632 items means no artist was missing from artists.dat (a missing one would add an item).
    expect(manifest.counts).toEqual({ users: 1_892, creators: 0, items: 17_632, events: 92_834 });
    let unnamed = 0;
    for await (const item of (await WorldFolder.open(out)).records('items'))
      if (item.caption === '') unnamed++;
    expect(unnamed).toBe(0);
  });
});

describe('foryou import (CLI)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('imports MovieLens and prints counts and the time range', async () => {
    const dir = folderWith({
      'u.data': '1\t10\t4\t881250949\n2\t10\t2\t881250950\n2\t11\t5\t891717742\n',
    });
    const out = freshPath('world');
    const io = captureOutput();
    const code = await runCli(['import', 'movielens', '--path', dir, '--out', out, '--format', 'jsonl']);
    vi.restoreAllMocks();
    expect(code, io.err()).toBe(0);
    expect(io.out()).toContain(`imported movielens (100k) into ${out}`);
    expect(io.out()).toMatch(/users\s+2\n/);
    expect(io.out()).toMatch(/items\s+2\n/);
    expect(io.out()).toMatch(/events\s+3\n/);
    expect(io.out()).toContain('1997-12-04T15:55:49Z .. 1998-04-04T19:22:22Z');
    expect((await WorldFolder.open(out)).manifest.formats).toEqual(['jsonl']);
  });

  it('imports Last.fm', async () => {
    const dir = folderWith({ 'user_artists.dat': 'userID\tartistID\tweight\r\n2\t51\t13883\r\n' });
    const out = freshPath('world');
    const io = captureOutput();
    const code = await runCli(['import', 'lastfm', '--path', dir, '--out', out, '--quiet']);
    vi.restoreAllMocks();
    expect(code, io.err()).toBe(0);
    expect(io.out()).toContain('imported lastfm (hetrec-2011)');
    expect(io.out()).toContain('2011-05-01T00:00:00Z .. 2011-05-01T00:00:00Z');
    expect(io.out()).toContain('formats jsonl, parquet');
  });

  it('shows help for each import command', async () => {
    for (const dataset of ['movielens', 'lastfm']) {
      const io = captureOutput();
      const code = await runCli(['import', dataset, '--help']);
      vi.restoreAllMocks();
      expect(code).toBe(0);
      expect(io.out()).toContain(`Usage: foryou import ${dataset} [options]`);
      expect(io.out()).toContain('--path');
      expect(io.out()).toContain('--format <list>');
    }
  });

  it.each([
    [
      ['--layout', '20m'],
      64,
      'error FY_INVALID_ARGUMENT: --layout expects auto, latest-small, 100k, 1m, got "20m"',
    ],
    [['--format', 'csv'], 64, 'error FY_INVALID_ARGUMENT: --format expects a comma-separated list of jsonl'],
    [['--path', join(tmpdir(), 'foryou-nowhere')], 66, 'error FY_DATASET_NOT_FOUND:'],
  ])('fails with an exit code and a message for %o', async (args, exitCode, message) => {
    const dir = folderWith({ 'u.data': '1\t10\t4\t881250949\n' });
    const io = captureOutput();
    const code = await runCli(['import', 'movielens', '--path', dir, '--out', freshPath('world'), ...args]);
    vi.restoreAllMocks();
    expect(code).toBe(exitCode);
    expect(io.err()).toContain(message);
  });

  it('reports a missing required option as a usage error', async () => {
    const io = captureOutput();
    const code = await runCli(['import', 'lastfm', '--path', '.']);
    vi.restoreAllMocks();
    expect(code).toBe(64);
    expect(io.err()).toContain("required option '--out <dir>' not specified");
  });
});
