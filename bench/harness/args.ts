/** The command-line flags every benchmark script understands. */
import { basename } from 'node:path';

export interface BenchArgs {
  /** `--quick`: smaller sizes for a smoke run; its results never replace full ones in RESULTS.md. */
  quick: boolean;
  /** Picks the full-size or the quick-size value of a parameter. */
  size<T>(full: T, quick: T): T;
  /** `--NAME N`: a positive number, else `fallback`; anything else fails naming the flag. */
  number(name: string, fallback: number): number;
  /** `--NAME TEXT`, or undefined when absent. */
  text(name: string): string | undefined;
}

export function benchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const quick = argv.includes('--quick');
  const flagValue = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    if (at < 0) return undefined;
    const value = argv[at + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
    return value;
  };
  return {
    quick,
    size: (full, small) => (quick ? small : full),
    number(name, fallback) {
      const text = flagValue(name);
      if (text === undefined) return fallback;
      const value = Number(text);
      if (!Number.isFinite(value) || value <= 0)
        throw new Error(`--${name} needs a positive number, not ${text}`);
      return value;
    },
    text: flagValue,
  };
}

/** The benchmark's name from its script path: bench/rng.bench.ts gives "rng". */
export function benchName(script: string | undefined = process.argv[1]): string {
  if (!script) return 'unknown';
  return basename(script)
    .replace(/\.bench\.[cm]?[jt]s$/, '')
    .replace(/\.[cm]?[jt]s$/, '');
}
