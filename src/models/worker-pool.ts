import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ERROR_CATALOGUE, type ErrorCode, ForyouError } from '../core/errors.js';

/**
 * A small pool of worker threads for the models' numeric kernels. Each worker loads one module, receives a
 * setup value once (typed arrays over SharedArrayBuffers, sizes), then runs tasks: `run(task)` sends the
 * same task to every worker and resolves when all have answered. Workers split the work among themselves
 * (an atomic counter in shared memory), so the pool needs no scheduler.
 *
 * Source (.ts) modules run through tsx, registered inside each worker; compiled (.js) ones run as they are.
 */
export class WorkerPool<Task, Reply = unknown> {
  private constructor(private readonly workers: Worker[]) {}

  /** Starts `size` workers of the module `name` (a sibling of `base`, e.g. `import.meta.url`). */
  static async start<Task, Reply = unknown>(
    base: string,
    name: string,
    size: number,
    setup: unknown,
  ): Promise<WorkerPool<Task, Reply>> {
    const source = base.endsWith('.ts');
    const url = new URL(`./${name}.${source ? 'ts' : 'js'}`, base);
    const workers = Array.from({ length: size }, () =>
      source
        ? new Worker(tsxBootstrap(url), { eval: true, workerData: setup })
        : new Worker(url, { workerData: setup }),
    );
    const pool = new WorkerPool<Task, Reply>(workers);
    try {
      await Promise.all(workers.map((w) => pool.request(w, { type: 'ready' })));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends `task` to every worker; resolves with their replies once all are done. */
  run(task: Task): Promise<Reply[]> {
    return Promise.all(this.workers.map((w) => this.request(w, { type: 'task', task }) as Promise<Reply>));
  }

  /** Sends one task per worker (`tasks.length` must equal the pool size). */
  runEach(tasks: readonly Task[]): Promise<Reply[]> {
    return Promise.all(
      this.workers.map((w, i) => this.request(w, { type: 'task', task: tasks[i] }) as Promise<Reply>),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private request(worker: Worker, message: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (reply: WorkerReply) => {
        cleanup();
        if (reply.ok) resolve(reply.value);
        else reject(rebuildError(reply));
      };
      const onError = (error: Error) => {
        cleanup();
        reject(
          new ForyouError('FY_INTERNAL', `a model worker thread failed: ${error.message}`, { cause: error }),
        );
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new ForyouError('FY_INTERNAL', `a model worker thread exited with code ${code}`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(message);
    });
  }
}

type WorkerReply =
  | { ok: true; value: unknown }
  | { ok: false; message: string; code?: string; details?: unknown };

function rebuildError(reply: { message: string; code?: string; details?: unknown }): Error {
  if (reply.code && Object.hasOwn(ERROR_CATALOGUE, reply.code))
    return new ForyouError(reply.code as ErrorCode, reply.message, {
      details: (reply.details as Record<string, unknown>) ?? {},
    });
  return new ForyouError('FY_INTERNAL', `a model worker thread failed: ${reply.message}`);
}

/**
 * A worker script that registers tsx's ESM hooks in the worker, then imports the .ts module (a worker does
 * not inherit the hooks of its parent, and `--import tsx` in a worker's execArgv does not take on Node 20).
 */
function tsxBootstrap(url: URL): string {
  const root = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(root, 'dist/esm/api/index.mjs')).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
}

/**
 * The worker side: call once at the top of a worker module. `setup` receives the pool's setup value and
 * returns the task handler; replies (and errors, with their catalogue code) go back to the pool.
 */
export function serveWorkerTasks<Setup, Task, Reply>(setup: (value: Setup) => (task: Task) => Reply): void {
  if (isMainThread || !parentPort) throw new ForyouError('FY_INTERNAL', 'serveWorkerTasks outside a worker');
  const port = parentPort;
  const handle = setup(workerData as Setup);
  port.on('message', (message: { type: 'ready' } | { type: 'task'; task: Task }) => {
    try {
      const value = message.type === 'ready' ? null : handle(message.task);
      port.postMessage({ ok: true, value } satisfies WorkerReply);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({
        ok: false,
        message: e.message,
        code: e instanceof ForyouError ? e.code : undefined,
        details: e instanceof ForyouError ? e.details : undefined,
      } satisfies WorkerReply);
    }
  });
}

/** Threads to use: the caller's choice, else one per core; at least 1. */
export function threadCount(requested: number | undefined): number {
  const n = requested ?? availableParallelism();
  if (!Number.isInteger(n) || n < 1)
    throw new ForyouError('FY_INVALID_ARGUMENT', `threads must be a whole number >= 1, got ${requested}`);
  return n;
}
