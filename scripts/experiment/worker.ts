/**
 * A worker thread of the experiment: receives { config, seed } jobs, trains each with trainRun, posts
 * { type: 'steps', steps } now and then and { type: 'done', result } at the end; `null` ends it.
 * workerData: { data: DigitSplit (SharedArrayBuffer-backed, read only), protocol: Protocol }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DigitSplit } from './data.js';
import type { Protocol, RunConfig } from './protocol.js';
import { trainRun } from './train.js';

export interface Job {
  config: RunConfig;
  seed: number;
}

export type WorkerMessage =
  | { type: 'steps'; steps: number }
  | { type: 'done'; result: ReturnType<typeof trainRun> }
  | { type: 'error'; message: string };

const { data, protocol } = workerData as { data: DigitSplit; protocol: Protocol };
const port = parentPort!;

port.on('message', (job: Job | null) => {
  if (job === null) {
    port.close();
    return;
  }
  try {
    const result = trainRun(data, job.config, job.seed, protocol, (steps) => port.postMessage({ type: 'steps', steps } satisfies WorkerMessage));
    port.postMessage({ type: 'done', result } satisfies WorkerMessage);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) } satisfies WorkerMessage);
  }
});
