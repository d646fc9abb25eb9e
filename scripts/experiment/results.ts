/**
 * The results file both implementations write ("normcheck-experiment/1"), and the statistics the report draws
 * from it: per configuration the mean, sample standard deviation and range of the test accuracy over seeds, and
 * the side-by-side check against PyTorch.
 *
 * JSON has no NaN: a non-finite loss is stored as null.
 */
import { readFileSync } from 'node:fs';
import { configKey, type RunConfig, type Variant, VARIANTS } from './protocol.js';

export const RESULTS_FORMAT = 'normcheck-experiment/1';

export interface RunResult extends RunConfig {
  seed: number;
  /** Fraction of the test set classified correctly, eval mode. */
  testAccuracy: number;
  /** Mean test cross-entropy, eval mode; null when not finite. */
  testLoss: number | null;
  /** A batch loss was not finite; training stopped there. */
  diverged: boolean;
  /** Mean batch loss over each tenth of an epoch (curvePointsPerEpoch per epoch, fewer if diverged). */
  trainLossCurve: (number | null)[];
  /** Test accuracy after each completed epoch. */
  epochTestAccuracy: number[];
  seconds: number;
}

export interface ResultsFile {
  format: typeof RESULTS_FORMAT;
  implementation: 'normcheck' | 'pytorch';
  implementationVersion: string;
  date: string;
  host: { cpus: number; workers: number; threadsPerWorker: number; note?: string };
  wallSeconds: number;
  protocol: {
    epochs: number; trainSize: number; testSize: number; curvePointsPerEpoch: number; seeds: number; seedStart?: number;
    initScaleAppliesTo: string; eps: number; bnMomentum: number; optimizer: string; maxStepsPerEpoch?: number | null;
  };
  runs: RunResult[];
}

/** JSON text of a results file: one key per line, but each array of numbers on one line (curves stay short). */
export function formatResults(file: ResultsFile): string {
  return JSON.stringify(file, null, 1).replace(/\[\s*((?:-?[\d.e+-]+|null)(?:,\s*(?:-?[\d.e+-]+|null))*)\s*\]/g,
    (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`) + '\n';
}

/** Reads and checks a results file (either implementation's). */
export function readResults(path: string): ResultsFile {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ResultsFile>;
  if (parsed.format !== RESULTS_FORMAT) throw new Error(`${path}: expected format '${RESULTS_FORMAT}', got ${JSON.stringify(parsed.format)}`);
  if (!Array.isArray(parsed.runs)) throw new Error(`${path}: expected a "runs" array`);
  for (const [i, r] of parsed.runs.entries()) {
    if (!VARIANTS.includes(r.variant as Variant) || typeof r.testAccuracy !== 'number' || !Array.isArray(r.trainLossCurve)) {
      throw new Error(`${path}: runs[${i}] is not a run result (variant, testAccuracy, trainLossCurve)`);
    }
  }
  return parsed as ResultsFile;
}

/**
 * One results file from several runs of the same implementation and protocol (e.g. seeds 0..4 and a follow-up
 * with seeds 5..19), optionally keeping only some configurations. A (configuration, seed) pair twice is an error.
 */
export function mergeResults(files: readonly ResultsFile[], onlyConfigs: readonly string[] | null = null): ResultsFile {
  if (files.length === 0) throw new Error('mergeResults: expected at least one results file');
  const first = files[0]!;
  const seen = new Set<string>();
  const runs: RunResult[] = [];
  for (const f of files) {
    if (f.implementation !== first.implementation || f.protocol.epochs !== first.protocol.epochs ||
      (f.protocol.maxStepsPerEpoch ?? null) !== (first.protocol.maxStepsPerEpoch ?? null)) {
      throw new Error(`mergeResults: ${f.implementation} (${f.protocol.epochs} epochs) does not match ${first.implementation} (${first.protocol.epochs} epochs)`);
    }
    for (const r of f.runs) {
      const key = `${configKey(r)} seed=${r.seed}`;
      if (onlyConfigs && !onlyConfigs.includes(configKey(r))) continue;
      if (seen.has(key)) throw new Error(`mergeResults: ${key} appears twice`);
      seen.add(key);
      runs.push(r);
    }
  }
  if (files.length === 1 && !onlyConfigs) return first;
  const seeds = new Set(runs.map((r) => r.seed));
  const notes = files.map((f) => f.host.note).filter((n): n is string => !!n);
  return {
    ...first,
    date: files.map((f) => f.date).sort().at(-1)!,
    wallSeconds: files.reduce((a, f) => a + f.wallSeconds, 0),
    host: { ...first.host, ...(notes.length ? { note: notes.join('; ') } : {}) },
    protocol: { ...first.protocol, seeds: seeds.size, seedStart: Math.min(...seeds) },
    runs,
  };
}

export interface Summary {
  config: RunConfig;
  seeds: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for one seed. */
  sd: number;
  min: number;
  max: number;
  diverged: number;
  /** Mean over seeds of each curve point (over the seeds that reached it). */
  meanCurve: (number | null)[];
  meanEpochAccuracy: number[];
  meanSeconds: number;
}

export function summarise(runs: readonly RunResult[]): Map<string, Summary> {
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const key = configKey(r);
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const out = new Map<string, Summary>();
  for (const [key, list] of groups) {
    const acc = list.map((r) => r.testAccuracy);
    const n = acc.length;
    const mean = acc.reduce((a, b) => a + b, 0) / n;
    const sd = n > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
    const { variant, lr, initScale, batchSize } = list[0]!;
    out.set(key, {
      config: { variant, lr, initScale, batchSize }, seeds: n, mean, sd, min: Math.min(...acc), max: Math.max(...acc),
      diverged: list.filter((r) => r.diverged).length,
      meanCurve: meanOfRagged(list.map((r) => r.trainLossCurve)),
      meanEpochAccuracy: meanOfRagged(list.map((r) => r.epochTestAccuracy)).map((v) => v ?? NaN),
      meanSeconds: list.reduce((a, r) => a + r.seconds, 0) / n,
    });
  }
  return out;
}

/** Pointwise mean of arrays of different lengths, skipping nulls; null where no array has a value. */
function meanOfRagged(arrays: readonly (readonly (number | null)[])[]): (number | null)[] {
  const length = Math.max(0, ...arrays.map((a) => a.length));
  return Array.from({ length }, (_, i) => {
    const values = arrays.map((a) => a[i]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  });
}

export interface Agreement {
  /** normcheck's mean minus PyTorch's. */
  delta: number;
  /** normcheck's mean lies in [min, max] of PyTorch's seeds (the criterion of issue 7). */
  withinTorchRange: boolean;
  /**
   * |delta| in units of its standard error √(s₁²/n₁ + s₂²/n₂) (Welch). Under "same distribution" it is about
   * |t| with few degrees of freedom; above ~2.8 (5 + 5 seeds, two-sided 5%) the two disagree beyond seed noise.
   * null when both spreads are zero.
   */
  standardErrors: number | null;
}

export function agreement(normcheck: Summary, torch: Summary): Agreement {
  const delta = normcheck.mean - torch.mean;
  const se = Math.sqrt(normcheck.sd ** 2 / normcheck.seeds + torch.sd ** 2 / torch.seeds);
  return {
    delta,
    withinTorchRange: normcheck.mean >= torch.min && normcheck.mean <= torch.max,
    standardErrors: se > 0 ? Math.abs(delta) / se : delta === 0 ? 0 : null,
  };
}
