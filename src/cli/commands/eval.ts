import type { Command } from 'commander';
import { ForyouError } from '../../core/errors.js';
import {
  createModel,
  DEFAULT_KS,
  EVALUATION_DATASETS,
  evaluate,
  formatMarkdownReport,
  loadEvaluationDataset,
  modelNames,
  PROTOCOL_NAMES,
  type ProtocolSpec,
  parseModelList,
  protocolName,
  readInteractionsFile,
  writeRecommendations,
  writeReportFiles,
} from '../../evaluation/index.js';
import { configOf, dateOption, floatOption, intOption } from '../program.js';

interface EvalFlags {
  dataset: string;
  path: string;
  protocol: string;
  models?: string[];
  k: number;
  seed?: number;
  out?: string;
  cutQuantile?: number;
  cutDate?: number;
  force?: boolean;
  quiet?: boolean;
}

interface RecommendFlags {
  train: string;
  model: string;
  k: number;
  out: string;
  seed?: number;
  force?: boolean;
}

/** The protocol with its options; the cut options belong to the temporal protocol only. */
function protocolSpec(flags: EvalFlags): ProtocolSpec {
  const name = protocolName(flags.protocol);
  const cut = flags.cutQuantile !== undefined || flags.cutDate !== undefined;
  if (name !== 'temporal') {
    if (cut)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `--cut-quantile and --cut-date apply to the temporal protocol, not ${name}`,
      );
    return { name };
  }
  if (flags.cutQuantile !== undefined && flags.cutDate !== undefined)
    throw new ForyouError('FY_INVALID_ARGUMENT', 'give --cut-quantile or --cut-date, not both');
  return {
    name,
    options: flags.cutDate !== undefined ? { cutMs: flags.cutDate } : { quantile: flags.cutQuantile ?? 0.8 },
  };
}

export function registerEvalCommands(program: Command): void {
  program
    .command('eval')
    .description(
      'evaluate retrieval models on a public dataset under a published protocol (docs/evaluation.md)',
    )
    .requiredOption('--dataset <name>', `dataset: ${Object.keys(EVALUATION_DATASETS).join(', ')}`)
    .requiredOption('--path <dir>', 'the unpacked dataset folder (or its ratings file)')
    .requiredOption('--protocol <name>', `split and ranking protocol: ${PROTOCOL_NAMES.join(', ')}`)
    .option(
      '--models <list>',
      `comma-separated models (default: all of ${modelNames().join(', ')})`,
      parseModelList,
    )
    .option('--k <n>', 'cutoff of the headline metrics in the table', intOption(1, 1000), 10)
    .option(
      '--seed <n>',
      'seeds the split and the models (default: the config seed, 42)',
      intOption(0, 2 ** 31),
    )
    .option('--out <dir>', 'also write report.json and report.md to this folder')
    .option(
      '--cut-quantile <q>',
      'temporal: cut at this quantile of the timestamps (default 0.8)',
      floatOption(0.001, 0.999),
    )
    .option('--cut-date <date>', 'temporal: cut at this time instead (UTC date or ISO time)', dateOption)
    .option('--force', 'replace report files already in --out', false)
    .option('--quiet', 'no progress lines on stderr', false)
    .action(async (flags: EvalFlags, command: Command) => {
      const protocol = protocolSpec(flags);
      const log = (text: string) => {
        if (!flags.quiet) process.stderr.write(`${text}\n`);
      };
      log(`reading ${flags.dataset} from ${flags.path}`);
      const dataset = await loadEvaluationDataset(flags.dataset, flags.path);
      const report = await evaluate({
        dataset,
        protocol,
        models: flags.models ?? modelNames(),
        ks: [...DEFAULT_KS, flags.k],
        seed: flags.seed ?? configOf(command).seed,
        onProgress: log,
      });
      if (flags.out) {
        const written = await writeReportFiles(report, flags.out, {
          k: flags.k,
          force: flags.force ?? false,
        });
        log(`wrote ${written.json} and ${written.markdown}`);
      }
      process.stdout.write(formatMarkdownReport(report, flags.k));
    });

  program
    .command('recommend')
    .description("train a model on an interactions file and write every user's top items as JSON lines")
    .requiredOption(
      '--train <file>',
      'interactions: user item [rating [timestamp]] per line, tab-, comma- or "::"-separated, optional header',
    )
    .requiredOption('--model <name>', `model: ${modelNames().join(', ')}`)
    .option('--k <n>', 'items per user', intOption(1, 100_000), 10)
    .requiredOption('--out <file>', 'output file: one {"user", "items"} JSON object per line')
    .option('--seed <n>', 'seeds the model (default: the config seed, 42)', intOption(0, 2 ** 31))
    .option('--force', 'replace the output file if it exists', false)
    .action(async (flags: RecommendFlags, command: Command) => {
      const model = createModel(flags.model);
      const interactions = await readInteractionsFile(flags.train);
      const written = await writeRecommendations(model, interactions, flags.k, flags.out, {
        seed: flags.seed ?? configOf(command).seed,
        force: flags.force ?? false,
      });
      process.stdout.write(
        `wrote top-${flags.k} ${flags.model} recommendations for ${written.users.toLocaleString('en-US')} users ` +
          `(${written.items.toLocaleString('en-US')} items) to ${flags.out}\n`,
      );
    });
}
