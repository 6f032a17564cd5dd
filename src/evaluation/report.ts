import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import type { EvaluationReport, MatrixCounts } from './runner.js';

const n = (value: number) => value.toLocaleString('en-US');

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

function describeCounts(c: MatrixCounts): string {
  return `${n(c.users)} users, ${n(c.items)} items, ${n(c.interactions)} interactions`;
}

/** The table's columns at cutoff k: header, metric name, decimals. */
function columns(k: number): [string, string, number][] {
  return [
    [`NDCG@${k}`, `ndcg@${k}`, 4],
    [`P@${k}`, `precision@${k}`, 4],
    [`R@${k}`, `recall@${k}`, 4],
    [`MAP@${k}`, `map@${k}`, 4],
    ['MRR', 'mrr', 4],
    [`HR@${k}`, `hit_rate@${k}`, 4],
    [`coverage@${k}`, `coverage@${k}`, 4],
    [`novelty@${k}`, `novelty@${k}`, 2],
    [`personalisation@${k}`, `personalisation@${k}`, 4],
    [`Gini@${k}`, `gini@${k}`, 4],
  ];
}

/**
 * The report as Markdown: what was split how, then one row per model with the headline metrics at `k`
 * (which must be one of the report's cutoffs) and the training time. MRR has no cutoff (full ranking).
 */
export function formatMarkdownReport(report: EvaluationReport, k = 10): string {
  if (!report.ks.includes(k))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `the report has no metrics at k = ${k}; its cutoffs are ${report.ks.join(', ')}`,
    );
  const { dataset, protocol } = report;
  const params = Object.entries(protocol.params)
    .filter(([key]) => key !== 'cutMs')
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
  const lines = [
    `# Evaluation: ${dataset.name}, ${protocol.name} protocol`,
    '',
    `- dataset: ${describeCounts(dataset)}`,
    `- split (${params}): train ${describeCounts(protocol.train)}` +
      (protocol.validation ? `; validation ${describeCounts(protocol.validation)}` : '') +
      `; test ${describeCounts(protocol.test)}`,
    `- evaluated users: ${n(protocol.evaluatedUsers)}; every ranking is over the ${n(protocol.candidateItems)} items seen in training, the user's training items removed`,
    '',
  ];
  const cols = columns(k);
  lines.push(`| model | ${cols.map(([header]) => header).join(' | ')} | train s |`);
  lines.push(`|---|${cols.map(() => '---:').join('|')}|---:|`);
  for (const model of report.models)
    lines.push(
      `| ${model.name} | ${cols.map(([, key, digits]) => fixed(model.metrics[key], digits)).join(' | ')} | ${fixed(model.trainSeconds, 2)} |`,
    );
  return `${lines.join('\n')}\n`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `report.json` (the whole report) and `report.md` (`formatMarkdownReport`) into `dir`, creating
 * it. Existing report files are kept (`FY_OUTPUT_EXISTS`) unless `force`.
 */
export async function writeReportFiles(
  report: EvaluationReport,
  dir: string,
  options: { k?: number; force?: boolean } = {},
): Promise<{ json: string; markdown: string }> {
  const json = join(dir, 'report.json');
  const markdown = join(dir, 'report.md');
  if (!options.force)
    for (const path of [json, markdown])
      if (await exists(path))
        throw new ForyouError('FY_OUTPUT_EXISTS', `${path} already exists`, { details: { path } });
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(markdown, formatMarkdownReport(report, options.k));
  } catch (error) {
    throw new ForyouError('FY_IO_FAILED', `cannot write the report to ${dir}: ${(error as Error).message}`, {
      cause: error,
      details: { path: dir },
    });
  }
  return { json, markdown };
}
