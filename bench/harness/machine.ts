/** What a figure was measured on, and how much memory the process took. The hostname is left out on purpose. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, arch as osArch, release, totalmem, type } from 'node:os';
import { Worker } from 'node:worker_threads';

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
  /** Samples the sampler thread has taken so far. */
  samples(): number;
}

/**
 * The sampler thread: every `intervalMs` it raises slot 0 (KiB) to the process's RSS and counts the sample
 * in slot 1, until slot 2 is set. RSS is the whole process's, so a thread of its own sees it.
 */
const RSS_SAMPLER = `
const { workerData } = require('node:worker_threads');
const slots = new Int32Array(workerData.buffer);
const nap = new Int32Array(new SharedArrayBuffer(4));
while (Atomics.load(slots, 2) === 0) {
  const now = Math.round(process.memoryUsage.rss() / 1024);
  for (let seen = Atomics.load(slots, 0); seen < now; seen = Atomics.load(slots, 0))
    if (Atomics.compareExchange(slots, 0, seen, now) === seen) break;
  Atomics.add(slots, 1, 1);
  Atomics.wait(nap, 0, 0, workerData.intervalMs);
}`;

/**
 * Samples the process's RSS every `intervalMs` to find the peak of one phase (peakRssMb() covers the whole
 * process lifetime). The sampling runs on a worker thread, so it goes on while the main thread is busy in a
 * synchronous phase (a model fit, a simulation), which a timer on the main thread would not see until the
 * phase ended. Spikes shorter than the interval can be missed. The thread does not keep the process alive.
 */
export function trackRss(intervalMs = 20): RssTracker {
  const slots = new Int32Array(new SharedArrayBuffer(12));
  // This thread's own samples (at the start, and when asked) are kept apart: only the sampler writes slot 0.
  let ownPeak = 0;
  const sample = () => {
    ownPeak = Math.max(ownPeak, Math.round(process.memoryUsage.rss() / 1024));
  };
  sample();
  const worker = new Worker(RSS_SAMPLER, { eval: true, workerData: { buffer: slots.buffer, intervalMs } });
  worker.unref();
  const toMb = () => Math.round((Math.max(ownPeak, Atomics.load(slots, 0)) / 1024) * 10) / 10;
  // Set by stop: the sampler may still take a last sample while it winds down, which must not move the peak.
  let final: number | null = null;
  return {
    peakMb: () => {
      if (final !== null) return final;
      sample();
      return toMb();
    },
    stop: () => {
      if (final === null) {
        Atomics.store(slots, 2, 1);
        void worker.terminate();
        sample();
        final = toMb();
      }
      return final;
    },
    samples: () => Atomics.load(slots, 1),
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
