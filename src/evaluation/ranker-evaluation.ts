import { RANKING_TASKS, TASK_COUNT, WATCH_FRACTION_TASK } from '../models/ranking-samples.js';
import { auc, meanUserAuc } from './classification-metrics.js';

/** Quality of a multi-task ranker's outputs on labelled rows (both rows x TASK_COUNT, RANKING_TASKS order). */
export interface RankerTaskReport {
  task: string;
  /** Mean per-user AUC (binary tasks: against the label; watch fraction: against watch fraction >= 0.5). */
  userAuc: number;
  auc: number;
  positives: number;
  /** Watch fraction only: mean absolute and root mean squared error. */
  mae?: number;
  rmse?: number;
}

/**
 * Task k's label as 0/1 for ranking metrics: the label itself for the binary tasks, "watched at least half"
 * for the watch fraction.
 */
export function binaryTaskLabel(k: number, label: number): number {
  return k === WATCH_FRACTION_TASK ? (label >= 0.5 ? 1 : 0) : label;
}

/** Task k's column of a rows x TASK_COUNT matrix (model outputs or labels). */
export function taskColumn(matrix: ArrayLike<number>, k: number): Float64Array {
  return Float64Array.from({ length: matrix.length / TASK_COUNT }, (_, r) => matrix[r * TASK_COUNT + k]!);
}

/** Task k's labels as 0/1 (`binaryTaskLabel`), one per row of a rows x TASK_COUNT label matrix. */
export function taskLabels(labels: ArrayLike<number>, k: number): Uint8Array {
  return Uint8Array.from(taskColumn(labels, k), (y) => binaryTaskLabel(k, y));
}

export function evaluateRankerTasks(
  userIds: readonly string[],
  outputs: ArrayLike<number>,
  labels: ArrayLike<number>,
): RankerTaskReport[] {
  const rows = userIds.length;
  return RANKING_TASKS.map((task, k) => {
    const scores = new Float64Array(rows);
    const y = new Uint8Array(rows);
    let positives = 0;
    let abs = 0;
    let sq = 0;
    for (let r = 0; r < rows; r++) {
      scores[r] = outputs[r * TASK_COUNT + k]!;
      const label = labels[r * TASK_COUNT + k]!;
      y[r] = binaryTaskLabel(k, label);
      positives += y[r]!;
      const err = scores[r]! - label;
      abs += Math.abs(err);
      sq += err * err;
    }
    const report: RankerTaskReport = {
      task,
      userAuc: meanUserAuc(userIds, scores, y),
      auc: auc(scores, y),
      positives,
    };
    if (k === WATCH_FRACTION_TASK) {
      report.mae = abs / rows;
      report.rmse = Math.sqrt(sq / rows);
    }
    return report;
  });
}
