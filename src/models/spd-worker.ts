/** Worker thread of `spd-inverse.ts`: runs its share of each phase on the shared workspace. */
import { runSpdTask, type SpdTask, type SpdWorkspace } from './spd-kernels.js';
import { serveWorkerTasks } from './worker-pool.js';

serveWorkerTasks<SpdWorkspace, SpdTask, null>((ws) => {
  const scratch = new Float64Array(ws.block * ws.size);
  return (task) => {
    runSpdTask(ws, task, scratch);
    return null;
  };
});
