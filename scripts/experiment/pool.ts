/**
 * Runs the jobs on `workers` worker threads (or in this thread when workers is 0), slowest first so the
 * threads finish together, and reports progress as estimated work done.
 */
import { Worker } from 'node:worker_threads';
import type { DigitSplit } from './data.js';
import type { Protocol } from './protocol.js';
import type { RunResult } from './results.js';
import { stepsPerRun, trainRun } from './train.js';
import type { Job, WorkerMessage } from './worker.js';

/**
 * Relative cost of one training step at batch size B, for ordering jobs and for the ETA. Measured on the
 * Float32 kernels with step_cost.ts (≈1.3 ms/step at B = 2, ≈1.45 ms at B = 8, ≈2.9 ms at B = 64): a fixed cost
 * per step plus a cost per sample, ≈ 1 + B/48 in units of the fixed cost (1.04, 1.17, 2.33 against the measured
 * 1, 1.12, 2.2). Only the job order and the ETA depend on it.
 */
export function stepCost(batchSize: number): number {
  return 1 + batchSize / 48;
}

export function jobWork(job: Job, protocol: Protocol, trainSize: number): number {
  return stepsPerRun(job.config, protocol, trainSize) * stepCost(job.config.batchSize);
}

export async function runJobs(
  jobs: readonly Job[], data: DigitSplit, protocol: Protocol, workers: number,
  onWork: (work: number) => void, onResult: (result: RunResult) => void = () => {},
): Promise<RunResult[]> {
  const queue = [...jobs].sort((a, b) => jobWork(b, protocol, data.trainSize) - jobWork(a, protocol, data.trainSize));
  const results: RunResult[] = [];
  if (workers === 0) {
    for (const job of queue) {
      const cost = stepCost(job.config.batchSize);
      const r = trainRun(data, job.config, job.seed, protocol, (steps) => onWork(steps * cost));
      results.push(r);
      onResult(r);
    }
    return results;
  }
  const url = new URL('./worker.js', import.meta.url);
  const runWorker = () => new Promise<void>((resolve, reject) => {
    const worker = new Worker(url, { workerData: { data, protocol } });
    let current: Job | undefined;
    const next = () => {
      current = queue.shift();
      worker.postMessage(current ?? null);
      if (current === undefined) void worker.terminate().then(() => resolve());
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'steps') onWork(m.steps * stepCost(current!.config.batchSize));
      else if (m.type === 'done') {
        results.push(m.result);
        onResult(m.result);
        next();
      } else {
        void worker.terminate();
        reject(new Error(`worker failed on ${JSON.stringify(current)}:\n${m.message}`));
      }
    });
    worker.on('error', reject);
    next();
  });
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, runWorker));
  return results;
}
