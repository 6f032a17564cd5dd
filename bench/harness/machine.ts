/** What a figure was measured on, and how much memory the process took. The hostname is left out on purpose. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/**
 * CPU time (user + system, ms) of a process and each of its children, read from Linux's /proc; null where
 * /proc is not there. The feed bench divides the difference over a loaded phase by the requests served:
 * CPU per request is what decides a server's capacity, whatever the queueing adds to latency.
 */
export function processTreeCpuMs(pid: number): Map<number, number> | null {
  if (!existsSync(`/proc/${pid}/stat`)) return null;
  const out = new Map<number, number>();
  const msPerTick = 1000 / 100; // USER_HZ is 100 on Linux
  const read = (p: number) => {
    try {
      // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(p, (Number(fields[11]) + Number(fields[12])) * msPerTick);
    } catch {
      // The process ended between listing and reading.
    }
  };
  read(pid);
  for (const task of readdirSafe(`/proc/${pid}/task`)) {
    const children = readFileSafe(`/proc/${pid}/task/${task}/children`).trim();
    for (const child of children === '' ? [] : children.split(' ')) read(Number(child));
  }
  return out;
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
