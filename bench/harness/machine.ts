/** What a figure was measured on, and how much memory the process took. The hostname is left out on purpose. */
import { availableParallelism, cpus, arch as osArch, release, totalmem, type } from 'node:os';

export interface MachineInfo {
  /** CPU model as the kernel names it. */
  cpu: string;
  /** Logical cores this process may use. */
  cores: number;
  /** Total memory, GiB, one decimal. */
  memGiB: number;
  /** Node version, e.g. v20.19.0. */
  node: string;
  /** Kernel name and release, e.g. "Linux 6.1.0-28-cloud-amd64". */
  os: string;
  arch: string;
}

let cached: MachineInfo | undefined;

export function machine(): MachineInfo {
  if (cached) return cached;
  const model = cpus()[0]?.model.replace(/\s+/g, ' ').trim();
  cached = {
    cpu: model || 'unknown CPU',
    cores: availableParallelism(),
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${type()} ${release()}`,
    arch: osArch(),
  };
  return cached;
}

/** One line for tables: "2 x Intel Xeon ..., 23.5 GiB, Linux 6.1 x64, Node v20.19.0". */
export function machineLabel(m: MachineInfo): string {
  return `${m.cores} x ${m.cpu}, ${m.memGiB} GiB, ${m.os} ${m.arch}, Node ${m.node}`;
}

/** Peak resident set size of this process since it started, MiB (from the kernel's maxRSS). */
export function peakRssMb(): number {
  // resourceUsage().maxRSS is in KiB.
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

export interface RssTracker {
  /** Highest RSS sampled so far, MiB. */
  peakMb(): number;
  /** Stops sampling and returns the peak, MiB. */
  stop(): number;
}

/**
 * Samples process.memoryUsage.rss() every `intervalMs` to find the peak of one phase (peakRssMb() covers
 * the whole process lifetime). Spikes shorter than the interval can be missed. The timer does not keep the
 * process alive.
 */
export function trackRss(intervalMs = 20): RssTracker {
  let peak = process.memoryUsage.rss();
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  let stopped = false;
  const toMb = () => Math.round((peak / 2 ** 20) * 10) / 10;
  return {
    peakMb: () => {
      if (!stopped) sample();
      return toMb();
    },
    stop: () => {
      if (!stopped) {
        sample();
        clearInterval(timer);
        stopped = true;
      }
      return toMb();
    },
  };
}
