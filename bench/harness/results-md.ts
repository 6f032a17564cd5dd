/**
 * Rewrites bench/RESULTS.md from result records. Each benchmark owns one generated block between
 * `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`; everything outside the blocks is hand-written
 * and kept as is, and blocks of benchmarks that were not re-run are kept too. A re-run replaces its block
 * in place; a benchmark seen for the first time gets a block appended at the end. Quick-mode results are
 * never written.
 */
import { formatFigure, formatRatio } from './format.js';
import { machineLabel } from './machine.js';
import type { BenchResult } from './report.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function startMarker(bench: string): string {
  return `<!-- bench:${bench}:start -->`;
}

export function endMarker(bench: string): string {
  return `<!-- bench:${bench}:end -->`;
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function paramValue(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}

function formatParams(params: Record<string, unknown>): string {
  const entries = Object.entries(params);
  return entries.length === 0 ? '' : entries.map(([k, v]) => `${k}=${paramValue(v)}`).join(', ');
}

/** "2026-11-26T15:50:12.345Z" as "2026-11-26 15:50 UTC". */
function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The generated block for one benchmark, markers included. */
export function renderBlock(bench: string, results: readonly BenchResult[]): string {
  if (!NAME.test(bench)) throw new RangeError(`benchmark name "${bench}" cannot be used in a marker`);
  if (results.length === 0) throw new RangeError(`no results for benchmark "${bench}"`);
  const lines: string[] = [startMarker(bench), `### ${bench}`, ''];
  lines.push('| metric | figure | baseline | baseline figure | ratio | better | params |');
  lines.push('| --- | ---: | --- | ---: | ---: | --- | --- |');
  for (const r of results) {
    lines.push(
      `| ${[
        code(r.name),
        formatFigure(r.value, r.unit),
        r.baselineName,
        formatFigure(r.baseline, r.unit),
        formatRatio(r.ratio),
        `${r.better} is better`,
        formatParams(r.params),
      ]
        .map((c) => cell(c))
        .join(' | ')} |`,
    );
  }
  lines.push('');
  const dates = results.map((r) => r.date).sort();
  const peak = Math.max(...results.map((r) => r.peakRssMb ?? 0));
  lines.push(`- machine: ${unique(results.map((r) => machineLabel(r.machine))).join('; ')}`);
  lines.push(`- date: ${unique(dates.map(formatDate)).join(', ')}`);
  lines.push(`- reproduce: ${unique(results.map((r) => code(r.command))).join(', ')}`);
  if (peak > 0) lines.push(`- peak RSS of the benchmark process: ${peak} MiB`);
  for (const r of results) if (r.notes) lines.push(`- ${code(r.name)}: ${r.notes.replace(/\r?\n/g, ' ')}`);
  lines.push(endMarker(bench));
  return lines.join('\n');
}

/** Where a benchmark's block sits in the text, or null; throws on duplicated or unbalanced markers. */
export function findBlock(markdown: string, bench: string): { start: number; end: number } | null {
  const open = startMarker(bench);
  const close = endMarker(bench);
  const start = markdown.indexOf(open);
  const end = markdown.indexOf(close);
  if (start === -1 && end === -1) return null;
  if (start === -1 || end === -1 || end < start)
    throw new Error(`RESULTS.md: unbalanced markers for "${bench}"; fix them by hand before regenerating`);
  if (markdown.indexOf(open, start + 1) !== -1 || markdown.indexOf(close, end + 1) !== -1)
    throw new Error(`RESULTS.md: the markers for "${bench}" appear more than once`);
  return { start, end: end + close.length };
}

/** Benchmarks with a generated block in the text, in order. */
export function listBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/<!-- bench:([A-Za-z0-9._-]+):start -->/g)].map((m) => m[1] as string);
}

export interface ResultsUpdate {
  markdown: string;
  /** Benchmarks whose block was replaced or added. */
  updated: string[];
  /** Benchmarks left alone because their results came from a --quick run. */
  skippedQuick: string[];
}

/** Puts the newest full-mode results of each benchmark into `markdown`; quick results are skipped. */
export function updateResultsMarkdown(markdown: string, results: readonly BenchResult[]): ResultsUpdate {
  const byBench = new Map<string, BenchResult[]>();
  const quickOnly = new Set<string>();
  for (const r of results) {
    if (r.quick) {
      quickOnly.add(r.bench);
      continue;
    }
    const list = byBench.get(r.bench) ?? [];
    list.push(r);
    byBench.set(r.bench, list);
  }
  let text = markdown;
  const updated: string[] = [];
  for (const [bench, list] of byBench) {
    const block = renderBlock(bench, list);
    const at = findBlock(text, bench);
    if (at) text = text.slice(0, at.start) + block + text.slice(at.end);
    else text = `${text.replace(/\s*$/, '')}${text.trim() === '' ? '' : '\n\n'}${block}\n`;
    updated.push(bench);
  }
  if (!text.endsWith('\n')) text += '\n';
  return { markdown: text, updated, skippedQuick: [...quickOnly].filter((b) => !byBench.has(b)) };
}
