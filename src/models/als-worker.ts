/** Worker thread of `als.ts`: solves its share of the rows of each half-iteration. */
import { type AlsShared, type AlsTask, alsScratch, runAlsTask } from './als-kernel.js';
import { serveWorkerTasks } from './worker-pool.js';

serveWorkerTasks<AlsShared, AlsTask, null>((shared) => {
  const scratch = alsScratch(shared.factors);
  return (task) => {
    runAlsTask(shared, task, scratch);
    return null;
  };
});
