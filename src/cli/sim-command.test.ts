import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureOutput, freshPath } from '../../test/helpers/index.js';
import { buildProgram, runCli } from './program.js';

/** `foryou sim generate` of a 20-user, 20-video, 0.1-day world into `dir`; a later option in `extra` wins. */
function tinyWorldArgs(dir: string, ...extra: string[]): string[] {
  return [
    'sim',
    'generate',
    '--out',
    dir,
    '--users',
    '20',
    '--items',
    '20',
    '--days',
    '0.1',
    '--quiet',
    ...extra,
  ];
}

afterEach(() => vi.restoreAllMocks());

describe('foryou sim generate', () => {
  it('writes a world, its summary, and prints the summary', async () => {
    const dir = freshPath('world');
    const io = captureOutput();
    const code = await runCli(
      tinyWorldArgs(dir, '--users', '200', '--items', '300', '--days', '0.5', '--seed', '5'),
    );
    expect(code).toBe(0);
    expect(io.out()).toContain('world: 200 users, 15 creators, 300 videos, 0.5 days');
    expect(io.out()).toMatch(/engagement per play: like \d/);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.params).toMatchObject({ users: 200, items: 300, days: 0.5, seed: 5 });
    expect(existsSync(join(dir, 'events.parquet'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).events).toBe(manifest.counts.events);
  });

  it('exits 73 without touching a non-empty folder unless --force', async () => {
    const dir = freshPath('world');
    captureOutput();
    expect(await runCli(tinyWorldArgs(dir, '--format', 'jsonl'))).toBe(0);
    const before = readFileSync(join(dir, 'manifest.json'), 'utf8');
    const io = captureOutput();
    expect(await runCli(tinyWorldArgs(dir, '--users', '30'))).toBe(73);
    expect(io.err()).toContain('error FY_OUTPUT_EXISTS');
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(before);
    expect(await runCli(tinyWorldArgs(dir, '--users', '30', '--force'))).toBe(0);
  });

  it.each([
    [['--users', 'ten'], 'expected a whole number, got "ten"'],
    [['--days', '0'], 'expected a number from 0.01 to 366, got "0"'],
    [['--start', 'yesterday'], 'expected a date like 2026-01-01, got "yesterday"'],
    [['--format', 'csv'], '--format expects a comma-separated list of jsonl, parquet, got "csv"'],
  ])('exits 64 on a bad option %j and says why', async (args, message) => {
    const io = captureOutput();
    const code = await runCli(['sim', 'generate', '--out', join(tmpdir(), 'never-written'), ...args]);
    expect(code).toBe(64);
    expect(io.err()).toContain(message);
  });

  it('prints help for every command and exits 0', async () => {
    for (const path of [
      [],
      ['sim'],
      ['sim', 'generate'],
      ['import'],
      ['import', 'movielens'],
      ['import', 'lastfm'],
    ]) {
      const io = captureOutput();
      expect(await runCli([...path, '--help'])).toBe(0);
      expect(io.out()).toContain('Usage: foryou');
      vi.restoreAllMocks();
    }
  });

  it('takes the seed from the configuration and refuses a bad configuration with exit 78', async () => {
    const dir = freshPath('world');
    captureOutput();
    const args = tinyWorldArgs(dir, '--format', 'jsonl');
    expect(await runCli(args, buildProgram({ FORYOU_SEED: '77' }))).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).params.seed).toBe(77);
    const io = captureOutput();
    expect(await runCli([...args, '--force'], buildProgram({ FORYOU_SEED: 'seven' }))).toBe(78);
    expect(io.err()).toContain(
      'error FY_CONFIG_INVALID: refusing to start: FORYOU_SEED="seven" must be a whole number',
    );
  });

  it('exits 64 on an unknown command', async () => {
    const io = captureOutput();
    expect(await runCli(['simulate'])).toBe(64);
    expect(io.err()).toContain("unknown command 'simulate'");
  });
});
