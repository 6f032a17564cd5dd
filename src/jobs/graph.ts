import { ForyouError } from '../core/errors.js';

/**
 * The offline job graph: small idempotent jobs with dependencies. A job runs when it is stale: never run,
 * its inputs changed (its fingerprint differs from the one of its last success), or a dependency produced
 * a new output since. Failed runs are retried with backoff; a job that still fails stops its dependents
 * and is reported with its error.
 */
export interface JobContext {
  /** Progress within the job: done out of total (total may grow). */
  progress(done: number, total: number, note?: string): void;
  signal: AbortSignal;
}

export interface Job {
  /** Stable kebab-case id (`lake-write`, `train-ease`). */
  id: string;
  description: string;
  deps: readonly string[];
  /** A string that changes when the job's inputs change (a manifest sequence, a config hash). */
  fingerprint(): Promise<string>;
  /** Does the work; returns what it produced (an artifact version, a count), recorded with the run. */
  run(ctx: JobContext): Promise<string>;
}

export interface JobRecord {
  fingerprint: string;
  output: string;
  /** Outputs of the dependencies when it ran: a changed one makes it stale. */
  depOutputs: Record<string, string>;
  finishedAt: string;
  seconds: number;
}

export interface JobState {
  success: Record<string, JobRecord>;
  failure: Record<string, { error: string; at: string; attempts: number }>;
}

export interface JobStateStore {
  load(): Promise<JobState>;
  save(state: JobState): Promise<void>;
}

export type JobEvent =
  | { kind: 'skip'; job: string; reason: string }
  | { kind: 'start'; job: string; reason: string; attempt: number }
  | { kind: 'progress'; job: string; done: number; total: number; note?: string }
  | { kind: 'done'; job: string; output: string; seconds: number }
  | { kind: 'retry'; job: string; attempt: number; error: string; waitMs: number }
  | { kind: 'fail'; job: string; error: string }
  | { kind: 'blocked'; job: string; by: string };

export interface RunOptions {
  /** Run even when up to date. */
  force?: boolean;
  /** Attempts per job (default 3). */
  attempts?: number;
  /** Wait before the first retry, doubled each time (default 1,000 ms). */
  backoffMs?: number;
  onEvent?: (event: JobEvent) => void;
  signal?: AbortSignal;
}

export interface RunSummary {
  ran: string[];
  skipped: string[];
  failed: { job: string; error: string }[];
  blocked: string[];
}

export class JobGraph {
  private readonly jobs = new Map<string, Job>();

  constructor(jobs: readonly Job[] = []) {
    for (const job of jobs) this.add(job);
  }

  add(job: Job): void {
    if (this.jobs.has(job.id))
      throw new ForyouError('FY_INVALID_ARGUMENT', `job "${job.id}" is defined twice`);
    this.jobs.set(job.id, job);
  }

  list(): Job[] {
    return [...this.jobs.values()];
  }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `no job "${id}"; jobs: ${[...this.jobs.keys()].join(', ')}`,
      );
    return job;
  }

  /** The jobs `targets` need, dependencies first; refuses unknown dependencies and cycles. */
  order(targets: readonly string[]): Job[] {
    const out: Job[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string, path: string[]) => {
      const job = this.get(id);
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting')
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `the job graph has a cycle: ${[...path, id].join(' -> ')}`,
        );
      state.set(id, 'visiting');
      for (const dep of job.deps) {
        if (!this.jobs.has(dep))
          throw new ForyouError('FY_INVALID_ARGUMENT', `job "${id}" depends on unknown job "${dep}"`);
        visit(dep, [...path, id]);
      }
      state.set(id, 'done');
      out.push(job);
    };
    for (const t of targets) visit(t, []);
    return out;
  }

  /** Why a job must run, or null when it is up to date. */
  async staleness(job: Job, state: JobState): Promise<string | null> {
    const last = state.success[job.id];
    if (!last) return 'never ran';
    const fingerprint = await job.fingerprint();
    if (fingerprint !== last.fingerprint) return `inputs changed (${last.fingerprint} -> ${fingerprint})`;
    for (const dep of job.deps) {
      const output = state.success[dep]?.output;
      if (output !== last.depOutputs[dep]) return `${dep} produced ${output ?? 'nothing'} since`;
    }
    return null;
  }

  /** Runs `targets` (or every job) and what they depend on, each only if stale (or forced). */
  async run(
    targets: readonly string[] | 'all',
    store: JobStateStore,
    options: RunOptions = {},
  ): Promise<RunSummary> {
    const jobs = this.order(targets === 'all' ? [...this.jobs.keys()] : targets);
    const state = await store.load();
    const emit = options.onEvent ?? (() => {});
    const attempts = Math.max(1, options.attempts ?? 3);
    const summary: RunSummary = { ran: [], skipped: [], failed: [], blocked: [] };
    const broken = new Set<string>();
    const signal = options.signal ?? new AbortController().signal;
    for (const job of jobs) {
      const blocker = job.deps.find((d) => broken.has(d));
      if (blocker) {
        broken.add(job.id);
        summary.blocked.push(job.id);
        emit({ kind: 'blocked', job: job.id, by: blocker });
        continue;
      }
      const reason = options.force ? 'forced' : await this.staleness(job, state);
      if (reason === null) {
        summary.skipped.push(job.id);
        emit({ kind: 'skip', job: job.id, reason: 'up to date' });
        continue;
      }
      let lastError = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (signal.aborted) throw new ForyouError('FY_INVALID_ARGUMENT', 'job run aborted');
        emit({ kind: 'start', job: job.id, reason, attempt });
        const started = performance.now();
        try {
          const fingerprint = await job.fingerprint();
          const output = await job.run({
            signal,
            progress: (done, total, note) =>
              emit({ kind: 'progress', job: job.id, done, total, ...(note ? { note } : {}) }),
          });
          const seconds = (performance.now() - started) / 1000;
          state.success[job.id] = {
            fingerprint,
            output,
            depOutputs: Object.fromEntries(job.deps.map((d) => [d, state.success[d]?.output ?? ''])),
            finishedAt: new Date().toISOString(),
            seconds,
          };
          delete state.failure[job.id];
          await store.save(state);
          summary.ran.push(job.id);
          emit({ kind: 'done', job: job.id, output, seconds });
          lastError = '';
          break;
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error);
          if (attempt < attempts) {
            const waitMs = (options.backoffMs ?? 1000) * 2 ** (attempt - 1);
            emit({ kind: 'retry', job: job.id, attempt, error: lastError, waitMs });
            await new Promise((resolve) => setTimeout(resolve, waitMs));
          }
        }
      }
      if (lastError) {
        state.failure[job.id] = { error: lastError, at: new Date().toISOString(), attempts };
        await store.save(state);
        broken.add(job.id);
        summary.failed.push({ job: job.id, error: lastError });
        emit({ kind: 'fail', job: job.id, error: lastError });
      }
    }
    return summary;
  }
}
