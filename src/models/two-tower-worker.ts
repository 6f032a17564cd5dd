/** Hogwild worker of `two-tower.ts`: batches of the shared epoch order on the shared embedding tables. */
import { runTwoTowerTask, type TwoTowerShared, type TwoTowerTask } from './two-tower-kernel.js';
import { serveWorkerTasks } from './worker-pool.js';

serveWorkerTasks<TwoTowerShared, TwoTowerTask, { loss: number; examples: number }>(
  (shared) => (task) => runTwoTowerTask(shared, task),
);
