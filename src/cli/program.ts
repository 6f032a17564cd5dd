import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ForyouError } from '../core/errors.js';
import { registerImportCommands } from './commands/import.js';
import { registerSimCommands } from './commands/sim.js';

/** Exit code for a usage mistake (sysexits EX_USAGE), also used by FY_INVALID_ARGUMENT. */
export const EXIT_USAGE = 64;

export function buildProgram(): Command {
  const program = new Command('foryou')
    .description('Foryou: a recommendation platform for short-video feeds')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });
  registerSimCommands(program);
  registerImportCommands(program);
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

export function dateOption(value: string): number {
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`expected a date like 2026-01-01, got "${value}"`);
  return ms;
}

/** Runs the CLI and returns the process exit code; errors are printed, never thrown. */
export async function runCli(argv: string[], program: Command = buildProgram()): Promise<number> {
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
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
