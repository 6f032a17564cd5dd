/** Hogwild worker of `bpr.ts`: SGD steps on the shared factors with its own stream of triples. */
import { type BprShared, type BprTask, runBprTask } from './bpr-kernel.js';
import { serveWorkerTasks } from './worker-pool.js';

serveWorkerTasks<BprShared, BprTask, null>((shared) => (task) => {
  runBprTask(shared, task);
  return null;
});
