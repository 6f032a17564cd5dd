/** The command-line flags every benchmark script understands. */
import { basename } from 'node:path';

export interface BenchArgs {
  /** `--quick`: smaller sizes for a smoke run; its results never replace full ones in RESULTS.md. */
  quick: boolean;
  /** Picks the full-size or the quick-size value of a parameter. */
  size<T>(full: T, quick: T): T;
}

export function benchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const quick = argv.includes('--quick');
  return { quick, size: (full, small) => (quick ? small : full) };
}

/** The benchmark's name from its script path: bench/rng.bench.ts gives "rng". */
export function benchName(script: string | undefined = process.argv[1]): string {
  if (!script) return 'unknown';
  return basename(script)
    .replace(/\.bench\.[cm]?[jt]s$/, '')
    .replace(/\.[cm]?[jt]s$/, '');
}
