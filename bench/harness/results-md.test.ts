import { describe, expect, it } from 'vitest';
import type { BenchResult } from './report.js';
import { findBlock, listBlocks, renderBlock, updateResultsMarkdown } from './results-md.js';

const machineInfo = { cpu: 'Test CPU', cores: 2, memGiB: 24, node: 'v20.19.0', os: 'Linux 6.1', arch: 'x64' };

function result(bench: string, name: string, value: number, extra: Partial<BenchResult> = {}): BenchResult {
  return {
    bench,
    name,
    unit: 'ops/s',
    value,
    baseline: 1000,
    baselineName: 'baseline | peer',
    ratio: value / 1000,
    better: 'higher',
    params: { n: 10 },
    quick: false,
    machine: machineInfo,
    date: '2026-11-26T12:34:56.000Z',
    command: `npm run bench -- ${bench}`,
    peakRssMb: 50,
    ...extra,
  };
}

const EXISTING = `# Benchmark results

Hand-written introduction.

<!-- bench:alpha:start -->
### alpha
old alpha table
<!-- bench:alpha:end -->

Prose between the tables, kept as is.

<!-- bench:beta:start -->
### beta
old beta table
<!-- bench:beta:end -->

Closing prose.
`;

describe('updateResultsMarkdown', () => {
  it('replaces only the re-run benchmark and keeps prose and other tables', () => {
    const { markdown, updated } = updateResultsMarkdown(EXISTING, [result('alpha', 'alpha.ops', 2000)]);
    expect(updated).toEqual(['alpha']);
    expect(markdown).not.toContain('old alpha table');
    expect(markdown).toContain('old beta table');
    expect(markdown).toContain('Hand-written introduction.');
    expect(markdown).toContain('Prose between the tables, kept as is.');
    expect(markdown).toContain('Closing prose.');
    expect(markdown.indexOf('<!-- bench:alpha:start -->')).toBeLessThan(markdown.indexOf('Prose between'));
    expect(markdown).toContain(
      '| `alpha.ops` | 2 k ops/s | baseline \\| peer | 1 k ops/s | 2x | higher is better | n=10 |',
    );
    expect(markdown).toContain('- reproduce: `npm run bench -- alpha`');
    expect(markdown).toContain('- date: 2026-11-26 12:34 UTC');
    expect(markdown).toContain('- machine: 2 x Test CPU, 24 GiB, Linux 6.1 x64, Node v20.19.0');
    expect(listBlocks(markdown)).toEqual(['alpha', 'beta']);
  });

  it('appends a block for a benchmark seen for the first time, after everything else', () => {
    const { markdown } = updateResultsMarkdown(EXISTING, [result('gamma', 'g', 5)]);
    expect(listBlocks(markdown)).toEqual(['alpha', 'beta', 'gamma']);
    expect(markdown.indexOf('Closing prose.')).toBeLessThan(markdown.indexOf('<!-- bench:gamma:start -->'));
    expect(markdown.endsWith('<!-- bench:gamma:end -->\n')).toBe(true);
  });

  it('is stable: the same results give the same text', () => {
    const results = [result('alpha', 'a1', 1500), result('alpha', 'a2', 700)];
    const once = updateResultsMarkdown(EXISTING, results).markdown;
    expect(updateResultsMarkdown(once, results).markdown).toBe(once);
  });

  it('never writes quick-mode results', () => {
    const { markdown, updated, skippedQuick } = updateResultsMarkdown(EXISTING, [
      result('alpha', 'alpha.ops', 9999, { quick: true }),
      result('delta', 'd', 1, { quick: true }),
    ]);
    expect(markdown).toBe(EXISTING);
    expect(updated).toEqual([]);
    expect(skippedQuick).toEqual(['alpha', 'delta']);
  });

  it('refuses to guess when markers are unbalanced or repeated', () => {
    const broken = '<!-- bench:alpha:start -->\nno end\n';
    expect(() => updateResultsMarkdown(broken, [result('alpha', 'a', 1)])).toThrow(/unbalanced/);
    const twice = `${EXISTING}\n<!-- bench:beta:start -->\n<!-- bench:beta:end -->\n`;
    expect(() => findBlock(twice, 'beta')).toThrow(/more than once/);
  });

  it('starts a file from scratch', () => {
    const { markdown } = updateResultsMarkdown('', [result('alpha', 'a', 1)]);
    expect(markdown.startsWith('<!-- bench:alpha:start -->')).toBe(true);
  });
});

describe('renderBlock', () => {
  it('shows a null ratio as n/a, notes per metric, and rejects names unusable in markers', () => {
    const block = renderBlock('alpha', [result('alpha', 'a', 1, { ratio: null, notes: 'a note' })]);
    expect(block).toContain('| n/a |');
    expect(block).toContain('- `a`: a note');
    expect(() => renderBlock('bad name', [result('bad name', 'a', 1)])).toThrow(RangeError);
  });
});
