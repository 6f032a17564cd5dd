import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { type Config, loadConfig } from '../core/config.js';
import { ForyouError } from '../core/errors.js';
import type { WorldFormat } from '../io/world-folder.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEvalCommands } from './commands/eval.js';
import { registerFeatureCommands } from './commands/features.js';
import { registerImportCommands } from './commands/import.js';
import { registerJobCommands, registerModelCommands } from './commands/jobs.js';
import { registerLakeCommands } from './commands/lake.js';
import { registerLogCommands } from './commands/log.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSimCommands } from './commands/sim.js';

/** Exit code for a usage mistake (sysexits EX_USAGE), also used by FY_INVALID_ARGUMENT. */
export const EXIT_USAGE = 64;

const configs = new WeakMap<Command, Config>();

/** The configuration loaded (and checked) before the running command's action. */
export function configOf(command: Command): Config {
  let root = command;
  while (root.parent) root = root.parent;
  const config = configs.get(root);
  if (!config)
    throw new ForyouError('FY_INTERNAL', 'the configuration was not loaded before the command ran');
  return config;
}

export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('foryou')
    .description('Foryou: a recommendation platform for short-video feeds')
    .version('0.1.0')
    .option('--config <file>', 'JSON config file (default: $FORYOU_CONFIG); see docs/config.md')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) })
    // Every command starts by loading the configuration, and refuses to run on a bad value.
    .hook('preAction', (root) => {
      const file: string | undefined = root.opts().config;
      configs.set(root, loadConfig({ ...(file ? { file } : {}), env }));
    });
  registerDemoCommand(program);
  registerSimCommands(program);
  registerImportCommands(program);
  registerLakeCommands(program);
  registerReplayCommand(program);
  registerServeCommand(program);
  registerLogCommands(program);
  registerFeatureCommands(program);
  registerJobCommands(program);
  registerModelCommands(program);
  registerEvalCommands(program);
  return program;
}

/** Parsers for commander options that fail with a message naming the rule. */
export function intOption(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d[\d_]*$/.test(value.trim()))
      throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
    const n = Number(value.replaceAll('_', ''));
    if (n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got ${n}`);
    return n;
  };
}

export function floatOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

const FORMATS: readonly WorldFormat[] = ['jsonl', 'parquet'];

/** Parses `--format jsonl,parquet`: a comma-separated, non-empty subset of the output formats. */
export function formatsOption(value: string): WorldFormat[] {
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const bad = parts.filter((p) => !(FORMATS as readonly string[]).includes(p));
  if (parts.length === 0 || bad.length > 0)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `--format expects a comma-separated list of ${FORMATS.join(', ')}, got "${value}"`,
      { details: { option: '--format', value } },
    );
  return [...new Set(parts)] as WorldFormat[];
}

export function dateOption(value: string): number {
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`expected a date like 2026-01-01, got "${value}"`);
  return ms;
}

/** Runs the CLI and returns the process exit code; errors are printed, never thrown. */
export async function runCli(argv: string[], program: Command = buildProgram()): Promise<number> {
  const override = (command: Command): void => {
    command.exitOverride();
    for (const sub of command.commands) override(sub);
  };
  override(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      return EXIT_USAGE;
    }
    if (error instanceof ForyouError) {
      process.stderr.write(`error ${error.code}: ${error.message}\n  hint: ${error.hint}\n`);
      return error.exitCode;
    }
    process.stderr.write(`error FY_INTERNAL: ${(error as Error)?.stack ?? String(error)}\n`);
    return 70;
  }
}
