import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, payload?: Record<string, string | number>): void;
  setTotal(total: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Shown before the bar. */
  label: string;
  total: number;
  /** Unit of the counter, shown after it ("hours", "rows"). */
  unit?: string;
  /** Extra payload fields shown after the bar, as `{name}` tokens. */
  extra?: string;
  /** Initial values of the payload tokens. */
  payload?: Record<string, string | number>;
  /** Write nothing (tests, --quiet). */
  quiet?: boolean;
}

/** A progress bar on stderr; on a non-terminal it prints a plain line every few seconds instead. */
export function startProgress(options: ProgressOptions): Progress {
  if (options.quiet) return { update: () => {}, setTotal: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit ?? ''} | eta {eta_formatted}${options.extra ? ` | ${options.extra}` : ''}`,
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total, 0, options.payload ?? {});
  return {
    update: (value, payload) => bar.update(value, payload ?? {}),
    setTotal: (total) => bar.setTotal(total),
    stop: () => bar.stop(),
  };
}
