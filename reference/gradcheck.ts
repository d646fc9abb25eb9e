/**
 * Finite-difference gradient checker, float64, after torch.autograd.gradcheck (same defaults:
 * step 1e-6, atol 1e-5, rtol 1e-3; an element passes when |analytic - numeric| ≤ atol + rtol·|numeric|).
 *
 * What it checks. A function f maps named inputs (flat arrays) to an output vector y = f(x) of length m.
 * Rather than build the whole Jacobian J (m·n entries), it draws one random upstream gradient v (seeded,
 * standard normal) and checks the vector-Jacobian product vᵀJ, which is exactly what a backward pass
 * computes, as the gradient of the scalar
 *   L(x) = Σ_j v_j · f_j(x).
 * A wrong entry of J changes vᵀJ unless the error happens to be orthogonal to v, which has probability 0
 * for a continuous random v. The analytic side is one call of `backward(x, v)`.
 *
 * Two modes:
 *   full    every input element i in turn:  numeric_i = (L(x + h·e_i) - L(x - h·e_i)) / 2h   vs  ∂L/∂x_i
 *   random  for k random unit directions u (seeded, over all checked inputs together):
 *           numeric = (L(x + h·u) - L(x - h·u)) / 2h   vs   ⟨∇L, u⟩
 *           2k evaluations of f instead of 2n, for inputs too large to perturb one element at a time
 *           (torch's fast_mode checks the same directional derivative).
 * When the inputs are rounded after perturbation (option `round`, e.g. Math.fround for a float32
 * implementation), the step actually taken is x₊ - x₋, not 2h·u; both sides use the points actually
 * evaluated: full mode divides by x₊_i - x₋_i, random mode compares with ⟨∇L, x₊ - x₋⟩ / 2h.
 *
 * Error model of the central difference. With L evaluated to absolute accuracy δ ≈ u·Σ_j|v_j·f_j| (u the
 * unit roundoff of the arithmetic inside f, times a growth factor of the computation),
 *   numeric - L'(x) = h²/6 · L'''(ξ)          truncation: the even Taylor terms cancel
 *                   + (δ₊ - δ₋) / 2h          rounding: at most δ/h
 * so the error is about h²·|L'''|/6 + δ/h, smallest at h ≈ (3δ/|L'''|)^(1/3).
 *   float64, u = 1.1e-16, |L|, |L'''| of order 1: h = 1e-6 gives truncation ≈ 2e-13 and rounding ≈ 1e-10,
 *     both far under atol = 1e-5 (the optimum 7e-6 is no better in practice: rounding grows with the
 *     growth factor of f, truncation with its curvature, and 1e-6 leaves room for both).
 *   float32, u = 6e-8: rounding at h = 1e-6 would be ≈ 0.06, useless; the optimum h ≈ (3u)^(1/3) ≈ 6e-3
 *     gives ≈ 2e-5 (more with the growth factor), so a float32 caller passes a step near 1e-3 to 1e-2 and
 *     tolerances to match, and `round: Math.fround`.
 * Cases the model rules out: a kink within h of x (ReLU at 0: the difference straddles it), and rounding
 * amplified by conditioning (BatchNorm at offset |x|/σ = 1e6: x - mean loses u·|x|, so δ ≈ u·(|x|/σ)·Σ|v_j|,
 * 1e6 times the well-conditioned δ), both for the caller to avoid or to budget for.
 *
 * Never mutates the caller's inputs: every evaluation gets fresh copies. Returns a result; never throws
 * for a failed check (use `assertGradcheck` for that). Invalid arguments throw `ValueError` (options, types)
 * or `ShapeError` (lengths).
 * `gradcheckAsync` is the same check for implementations that return Promises (conformance adapters).
 */
import { seededRng } from './random.js';
import { checkArgs, checkArray, checkNumber, describe, ShapeError, ValueError, type ArgSpec } from './args.js';

export type GradcheckInputs = Record<string, ArrayLike<number>>;
export type GradcheckValues = Record<string, Float64Array>;

export interface GradcheckProblem {
  /** The point x at which to check, by name. Never modified. */
  inputs: GradcheckInputs;
  /** f(x): an output vector (or a number, an output of length 1). Receives fresh copies of the inputs. */
  forward(inputs: GradcheckValues): ArrayLike<number> | number;
  /** The analytic vector-Jacobian product: for each checked input, ∂(Σ_j dy_j·f_j)/∂input (its length). */
  backward(inputs: GradcheckValues, dy: Float64Array): Record<string, ArrayLike<number> | null | undefined>;
}

export interface GradcheckProblemAsync {
  inputs: GradcheckInputs;
  forward(inputs: GradcheckValues): ArrayLike<number> | number | Promise<ArrayLike<number> | number>;
  backward(inputs: GradcheckValues, dy: Float64Array):
    | Record<string, ArrayLike<number> | null | undefined>
    | Promise<Record<string, ArrayLike<number> | null | undefined>>;
}

export interface GradcheckOptions {
  /** Finite-difference step h (default 1e-6, for float64 f). */
  step?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance, relative to |numeric| (default 1e-3). */
  rtol?: number;
  /** 'full': perturb every element; 'random': `directions` random unit directions (default 'full'). */
  mode?: 'full' | 'random';
  /** Number of random directions in random mode (default 8). */
  directions?: number;
  /** Seed of the upstream gradient v and the random directions (default 0). */
  seed?: number;
  /** Which inputs to differentiate (default all). The others are held at their values. */
  wrt?: readonly string[];
  /** Applied to every perturbed value before f sees it, e.g. Math.fround for a float32 f (default: none). */
  round?: (value: number) => number;
  /** How many failing comparisons to keep in the result (default 5). */
  keepFailures?: number;
}

export interface GradcheckComparison {
  /** The input perturbed (full mode), or 'direction' (random mode). */
  input: string;
  /** Element index within that input (full mode), or the direction number (random mode). */
  index: number;
  analytic: number;
  numeric: number;
  /** |analytic - numeric| */
  error: number;
  /** atol + rtol·|numeric| */
  bound: number;
}

export interface GradcheckResult {
  ok: boolean;
  mode: 'full' | 'random';
  step: number;
  atol: number;
  rtol: number;
  seed: number;
  /** Number of comparisons made (elements in full mode, directions in random mode). */
  checked: number;
  /** Number of comparisons out of bound (a NaN on either side counts as out of bound). */
  failed: number;
  /** The comparison with the largest error/bound ratio; null when nothing was checked. */
  worst: GradcheckComparison | null;
  /** The first failing comparisons, in order. */
  failures: GradcheckComparison[];
}

interface Setup {
  names: string[];
  step: number;
  atol: number;
  rtol: number;
  mode: 'full' | 'random';
  directions: number;
  seed: number;
  round: (value: number) => number;
  keepFailures: number;
}

/** One pair of evaluation points and the analytic value its difference quotient is compared with. */
interface Probe {
  input: string;
  index: number;
  plus: GradcheckValues;
  minus: GradcheckValues;
  /** numeric = (L(plus) - L(minus)) / denominator */
  denominator: number;
  analytic: number;
}

function copyAll(inputs: GradcheckInputs): GradcheckValues {
  const out: GradcheckValues = {};
  for (const [name, values] of Object.entries(inputs)) out[name] = Float64Array.from(values);
  return out;
}

const PROBLEM_ARGS: ArgSpec = { required: ['inputs', 'forward', 'backward'], optional: {} };
const OPTION_ARGS: ArgSpec = {
  required: [],
  optional: {
    step: '1e-6', atol: '1e-5', rtol: '1e-3', mode: "'full'", directions: '8', seed: '0', wrt: 'every input',
    round: 'none', keepFailures: '5',
  },
};

function setup(problem: GradcheckProblemAsync, options: GradcheckOptions): Setup {
  checkArgs('gradcheck', problem, PROBLEM_ARGS, 'problem.');
  checkArgs('gradcheck', options, OPTION_ARGS);
  const { inputs } = problem;
  if (inputs === null || typeof inputs !== 'object') throw new ValueError(`problem.inputs: expected { name: array }, got ${describe(inputs)}`);
  for (const [name, values] of Object.entries(inputs)) checkArray(`problem.inputs.${name}`, values, null, 'an array of numbers');
  for (const fn of ['forward', 'backward'] as const) {
    if (typeof problem[fn] !== 'function') throw new ValueError(`problem.${fn}: expected a function, got ${describe(problem[fn])}`);
  }
  const { step = 1e-6, atol = 1e-5, rtol = 1e-3, mode = 'full', directions = 8, seed = 0, keepFailures = 5 } = options;
  const finite = (lo: number, strict: boolean) => (v: number) => (strict ? v > lo : v >= lo) && Number.isFinite(v);
  checkNumber('step', step, finite(0, true), 'a finite number > 0');
  checkNumber('atol', atol, finite(0, false), 'a finite number >= 0');
  checkNumber('rtol', rtol, finite(0, false), 'a finite number >= 0');
  if (mode !== 'full' && mode !== 'random') throw new ValueError(`mode: expected 'full' or 'random', got ${describe(mode)}`);
  checkNumber('directions', directions, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  checkNumber('seed', seed, Number.isInteger, 'an integer');
  checkNumber('keepFailures', keepFailures, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
  if (options.round !== undefined && typeof options.round !== 'function') {
    throw new ValueError(`round: expected a function such as Math.fround, got ${describe(options.round)}`);
  }
  if (options.wrt !== undefined && !Array.isArray(options.wrt)) throw new ValueError(`wrt: expected an array of input names, got ${describe(options.wrt)}`);
  const names = options.wrt ? [...options.wrt] : Object.keys(inputs);
  for (const name of names) {
    if (!Object.hasOwn(inputs, name)) throw new ValueError(`wrt: ${describe(name)} is not one of the inputs (${Object.keys(inputs).join(', ')})`);
  }
  return { names, step, atol, rtol, mode, directions, seed, round: options.round ?? ((v) => v), keepFailures };
}

/** Seeded standard normal stream (random.ts: mulberry32 + Box-Muller). */
function normal(seed: number): () => number {
  return seededRng(seed).normal;
}

function asVector(out: ArrayLike<number> | number): ArrayLike<number> {
  return typeof out === 'number' ? [out] : out;
}

/** The upstream gradient v: one standard normal per output element. */
function upstream(m: number, seed: number): Float64Array {
  const draw = normal(seed);
  const v = new Float64Array(m);
  for (let j = 0; j < m; j++) v[j] = draw();
  return v;
}

/** L = Σ v_j · f_j; a wrong output length is an error of f, not a gradient mismatch. */
function contract(v: Float64Array, out: ArrayLike<number> | number): number {
  const y = asVector(out);
  if (y.length !== v.length) throw new ShapeError(`forward: returned ${y.length} values, expected ${v.length} as at the first call`);
  let L = 0;
  for (let j = 0; j < v.length; j++) L += v[j]! * y[j]!;
  return L;
}

function checkAnalytic(s: Setup, inputs: GradcheckInputs, grads: Record<string, ArrayLike<number> | null | undefined>): GradcheckValues {
  const out: GradcheckValues = {};
  for (const name of s.names) {
    const g = grads[name];
    const n = inputs[name]!.length;
    if (g == null) throw new ShapeError(`backward: returned no gradient for input '${name}'`);
    if (g.length !== n) throw new ShapeError(`backward: gradient of '${name}' has ${g.length} values, expected ${n}`);
    out[name] = Float64Array.from(g);
  }
  return out;
}

/** The evaluation points, one pair at a time (full mode would need 2n copies at once otherwise). */
function* probes(s: Setup, inputs: GradcheckInputs, analytic: GradcheckValues): Generator<Probe> {
  const h = s.step;
  if (s.mode === 'full') {
    for (const name of s.names) {
      const x = inputs[name]!;
      for (let i = 0; i < x.length; i++) {
        const plus = copyAll(inputs);
        const minus = copyAll(inputs);
        plus[name]![i] = s.round(x[i]! + h);
        minus[name]![i] = s.round(x[i]! - h);
        // the step actually taken: 2h unless rounding moved the points
        const denominator = plus[name]![i]! - minus[name]![i]!;
        if (!(denominator > 0)) {
          throw new ValueError(`step: ${h} is below the rounding spacing at ${name}[${i}] = ${x[i]}; use a larger step`);
        }
        yield { input: name, index: i, plus, minus, denominator, analytic: analytic[name]![i]! };
      }
    }
    return;
  }
  const draw = normal(s.seed + 1);
  for (let k = 0; k < s.directions; k++) {
    // a random direction over all checked inputs together, scaled to unit length
    const u: GradcheckValues = {};
    let norm2 = 0;
    for (const name of s.names) {
      const d = new Float64Array(inputs[name]!.length);
      for (let i = 0; i < d.length; i++) {
        d[i] = draw();
        norm2 += d[i]! * d[i]!;
      }
      u[name] = d;
    }
    if (!(norm2 > 0)) throw new ShapeError('wrt: the checked inputs have no elements to perturb');
    const scale = 1 / Math.sqrt(norm2);
    const plus = copyAll(inputs);
    const minus = copyAll(inputs);
    // analytic = ⟨∇L, x₊ - x₋⟩ / 2h, which is ⟨∇L, u⟩ when nothing is rounded
    let dot = 0;
    for (const name of s.names) {
      const x = inputs[name]!;
      const d = u[name]!;
      const p = plus[name]!;
      const m = minus[name]!;
      const g = analytic[name]!;
      for (let i = 0; i < x.length; i++) {
        p[i] = s.round(x[i]! + h * d[i]! * scale);
        m[i] = s.round(x[i]! - h * d[i]! * scale);
        dot += g[i]! * (p[i]! - m[i]!);
      }
    }
    yield { input: 'direction', index: k, plus, minus, denominator: 2 * h, analytic: dot / (2 * h) };
  }
}

/** Keeps the worst comparison and the first failures. */
class Tally {
  checked = 0;
  failed = 0;
  worst: GradcheckComparison | null = null;
  private worstRatio = -1;
  readonly failures: GradcheckComparison[] = [];

  constructor(private readonly s: Setup) {}

  add(probe: Probe, numeric: number): void {
    const { analytic } = probe;
    const error = Math.abs(analytic - numeric);
    const bound = this.s.atol + this.s.rtol * Math.abs(numeric);
    // NaN on either side is a failure: NaN compares false with everything, so test for the pass instead
    const pass = error <= bound;
    const ratio = !pass ? Infinity : bound > 0 ? error / bound : 0; // bound 0 passes only with error 0
    const comparison: GradcheckComparison = { input: probe.input, index: probe.index, analytic, numeric, error, bound };
    this.checked++;
    if (!pass) {
      this.failed++;
      if (this.failures.length < this.s.keepFailures) this.failures.push(comparison);
    }
    if (ratio > this.worstRatio) {
      this.worstRatio = ratio;
      this.worst = comparison;
    }
  }

  result(): GradcheckResult {
    const { mode, step, atol, rtol, seed } = this.s;
    return { ok: this.failed === 0, mode, step, atol, rtol, seed, checked: this.checked, failed: this.failed, worst: this.worst, failures: this.failures };
  }
}

/** Checks `backward` against central differences of `forward` (see the header). */
export function gradcheck(problem: GradcheckProblem, options: GradcheckOptions = {}): GradcheckResult {
  const s = setup(problem, options);
  const { inputs } = problem;
  const v = upstream(asVector(problem.forward(copyAll(inputs))).length, s.seed);
  const analytic = checkAnalytic(s, inputs, problem.backward(copyAll(inputs), v));
  const tally = new Tally(s);
  for (const p of probes(s, inputs, analytic)) {
    tally.add(p, (contract(v, problem.forward(p.plus)) - contract(v, problem.forward(p.minus))) / p.denominator);
  }
  return tally.result();
}

/** The same check for a forward and backward that may return Promises. Evaluations run one at a time. */
export async function gradcheckAsync(problem: GradcheckProblemAsync, options: GradcheckOptions = {}): Promise<GradcheckResult> {
  const s = setup(problem, options);
  const { inputs } = problem;
  const v = upstream(asVector(await problem.forward(copyAll(inputs))).length, s.seed);
  const analytic = checkAnalytic(s, inputs, await problem.backward(copyAll(inputs), v));
  const tally = new Tally(s);
  for (const p of probes(s, inputs, analytic)) {
    const plus = contract(v, await problem.forward(p.plus));
    const minus = contract(v, await problem.forward(p.minus));
    tally.add(p, (plus - minus) / p.denominator);
  }
  return tally.result();
}

/** One line per failure, for error messages and reports. */
export function formatGradcheck(result: GradcheckResult): string {
  const head =
    `gradcheck ${result.ok ? 'passed' : 'FAILED'} (${result.mode} mode, step ${result.step}, atol ${result.atol}, ` +
    `rtol ${result.rtol}, seed ${result.seed}): ${result.failed} of ${result.checked} out of bound`;
  const line = (c: GradcheckComparison) =>
    `  ${c.input}[${c.index}]: analytic ${c.analytic}, numeric ${c.numeric}, |diff| ${c.error} > bound ${c.bound}`;
  const worst = result.worst
    ? `\n  worst: ${result.worst.input}[${result.worst.index}] analytic ${result.worst.analytic}, numeric ${result.worst.numeric}, ` +
      `|diff| ${result.worst.error}, bound ${result.worst.bound}`
    : '';
  return [head + worst, ...result.failures.map(line)].join('\n');
}

/** `gradcheck`, throwing an Error that lists the worst and first failing elements when the check fails. */
export function assertGradcheck(problem: GradcheckProblem, options: GradcheckOptions = {}): GradcheckResult {
  const result = gradcheck(problem, options);
  if (!result.ok) throw new Error(formatGradcheck(result));
  return result;
}

export async function assertGradcheckAsync(problem: GradcheckProblemAsync, options: GradcheckOptions = {}): Promise<GradcheckResult> {
  const result = await gradcheckAsync(problem, options);
  if (!result.ok) throw new Error(formatGradcheck(result));
  return result;
}
