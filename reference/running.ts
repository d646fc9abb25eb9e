/**
 * PyTorch's running buffers (module.running_mean, running_var, num_batches_tracked), as BatchNorm and
 * InstanceNorm take them: running: { runningMean, runningVar, numBatchesTracked? }, the same object in
 * training (which returns updated copies) and eval (which only reads it). Sizes: C channels.
 */
import { checkArgs, checkArray, checkCount, type ArgSpec } from './args.js';

/** The running buffers as the caller passes them. */
export interface RunningStatsArgs {
  runningMean: ArrayLike<number>; // (C)
  runningVar: ArrayLike<number>; // (C)
  /** Training calls before this one (default 0, a fresh module); eval mode does not read it. */
  numBatchesTracked?: number;
}

/** The running buffers after a step: new arrays, never the caller's. */
export interface RunningStats {
  runningMean: Float64Array; // (C)
  runningVar: Float64Array; // (C)
  numBatchesTracked: number;
}

const RUNNING_ARGS: ArgSpec = {
  required: ['runningMean', 'runningVar'],
  optional: { numBatchesTracked: '0' },
  misplaced: { mean: 'the running mean is runningMean', var: 'the running variance is runningVar' },
};

/** `running` must be { runningMean (C), runningVar (C), numBatchesTracked? (a count) }; `fn` names the caller. */
export function checkRunningStats(fn: string, running: unknown, C: number): asserts running is RunningStatsArgs {
  checkArgs(fn, running, RUNNING_ARGS, 'running.');
  const r = running as RunningStatsArgs;
  checkArray('running.runningMean', r.runningMean, C, `one running mean per channel, shape (${C},)`);
  checkArray('running.runningVar', r.runningVar, C, `one running variance per channel, shape (${C},)`);
  if ('numBatchesTracked' in r) checkCount('running.numBatchesTracked', r.numBatchesTracked);
}
