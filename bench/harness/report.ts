/**
 * The one way a benchmark publishes a figure: a JSON line on stdout (collected by bench/run.ts) and a
 * readable line on stderr. Every figure carries a baseline measured in the same run and their ratio.
 */
import { benchArgs, benchName } from './args.js';
import { formatFigure, formatRatio } from './format.js';
import { type MachineInfo, machine, peakRssMb } from './machine.js';

export type Better = 'higher' | 'lower';

export interface ReportInput {
  /** Metric name, unique within the benchmark, e.g. "rng.float". */
  name: string;
  /** Unit of value and baseline, e.g. "draws/s", "ms". */
  unit: string;
  value: number;
  /** The same quantity for the reference (peer library, raw store call, brute force), same run. */
  baseline: number;
  baselineName: string;
  /** Which direction is an improvement for value (and for ratio). */
  better: Better;
  /** Sizes and settings the figure depends on. */
  params?: Record<string, unknown>;
  notes?: string;
}

export interface BenchResult {
  /** Benchmark (script) name, e.g. "rng" for bench/rng.bench.ts. */
  bench: string;
  name: string;
  unit: string;
  value: number;
  baseline: number;
  baselineName: string;
  /** value / baseline; null when the baseline is 0 or either figure is not finite. */
  ratio: number | null;
  better: Better;
  params: Record<string, unknown>;
  notes?: string;
  /** Whether the benchmark ran with --quick (smaller sizes). */
  quick: boolean;
  machine: MachineInfo;
  /** ISO 8601 time of the report. */
  date: string;
  /** The command that reproduces the figure. */
  command: string;
  /** Peak resident memory of the benchmark process so far, MiB. */
  peakRssMb: number;
}

export interface ReportOptions {
  /** Defaults to the running script's name. */
  bench?: string;
  /** Defaults to the --quick flag of this process. */
  quick?: boolean;
  /** Defaults to `npm run bench -- <bench>` (plus --quick). */
  command?: string;
  date?: Date;
  /** Where the JSON line goes; defaults to stdout. */
  write?: (line: string) => void;
  /** Where the readable line goes; defaults to stderr. */
  log?: (line: string) => void;
}

export function ratioOf(value: number, baseline: number): number | null {
  const r = value / baseline;
  return Number.isFinite(r) ? r : null;
}

/** "rng.float: 95.1 M draws/s vs Math.random() 170 M draws/s = 0.559x (higher is better)". */
export function describeResult(r: Pick<BenchResult, ReportNumberFields>): string {
  return (
    `${r.name}: ${formatFigure(r.value, r.unit)} vs ${r.baselineName} ${formatFigure(r.baseline, r.unit)}` +
    ` = ${formatRatio(r.ratio)} (${r.better} is better)`
  );
}

type ReportNumberFields = 'name' | 'value' | 'unit' | 'baselineName' | 'baseline' | 'ratio' | 'better';

export function report(input: ReportInput, options: ReportOptions = {}): BenchResult {
  if (!input.name) throw new TypeError('report() needs a metric name');
  if (!input.baselineName) throw new TypeError(`report(${input.name}) needs a baselineName`);
  if (input.better !== 'higher' && input.better !== 'lower')
    throw new TypeError(`report(${input.name}): better must be 'higher' or 'lower'`);
  if (!Number.isFinite(input.value) || !Number.isFinite(input.baseline))
    throw new RangeError(`report(${input.name}): value and baseline must be finite numbers`);
  const bench = options.bench ?? benchName();
  const quick = options.quick ?? benchArgs().quick;
  const result: BenchResult = {
    bench,
    name: input.name,
    unit: input.unit,
    value: input.value,
    baseline: input.baseline,
    baselineName: input.baselineName,
    ratio: ratioOf(input.value, input.baseline),
    better: input.better,
    params: input.params ?? {},
    ...(input.notes === undefined ? {} : { notes: input.notes }),
    quick,
    machine: machine(),
    date: (options.date ?? new Date()).toISOString(),
    command: options.command ?? reproduceCommand(bench, quick),
    peakRssMb: peakRssMb(),
  };
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  write(JSON.stringify(result));
  log(`${quick ? '[quick] ' : ''}${describeResult(result)}`);
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A result line printed by report(), or null for any other line. Throws when the line is JSON that looks
 * like a result but lacks a field, so a broken benchmark fails loudly rather than dropping its figure.
 */
export function parseResultLine(line: string): BenchResult | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value) || !('bench' in value && 'name' in value && 'value' in value)) return null;
  const problems: string[] = [];
  for (const key of ['bench', 'name', 'unit', 'baselineName', 'date', 'command'] as const)
    if (typeof value[key] !== 'string') problems.push(`${key} is not a string`);
  for (const key of ['value', 'baseline'] as const)
    if (typeof value[key] !== 'number') problems.push(`${key} is not a number`);
  if (value['ratio'] !== null && typeof value['ratio'] !== 'number') problems.push('ratio is not a number');
  if (value['better'] !== 'higher' && value['better'] !== 'lower')
    problems.push('better is not higher|lower');
  if (typeof value['quick'] !== 'boolean') problems.push('quick is not a boolean');
  if (!isRecord(value['machine'])) problems.push('machine is missing');
  if (!isRecord(value['params'])) problems.push('params is missing');
  if (problems.length > 0) throw new TypeError(`malformed result line (${problems.join('; ')}): ${text}`);
  return value as unknown as BenchResult;
}

/** `npm run bench -- NAME`, with `--quick` and the script's own flags (passed after a second `--`). */
function reproduceCommand(bench: string, quick: boolean): string {
  const own = process.argv.slice(2).filter((a) => a !== '--quick');
  return `npm run bench -- ${bench}${quick ? ' --quick' : ''}${own.length > 0 ? ` -- ${own.join(' ')}` : ''}`;
}
