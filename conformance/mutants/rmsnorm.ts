/**
 * Mutants of RMSNorm: what is normalised, where eps goes and what it defaults to, the sum of squares, the backward.
 */
import { mutant, type Mutant } from './mutant.js';
import type { Round } from './base.js';

/** x² summed in the working precision without rescaling: ∞ once |x| passes 1.8e19 in float32, so rstd = 0. */
function naiveMeanSquare(x: ArrayLike<number>, idx: Int32Array, R: Round): { scale: number; ms: number } {
  let sq = 0;
  for (const i of idx) sq = R(sq + R(x[i]! * x[i]!));
  return { scale: 1, ms: R(sq / idx.length) };
}

export const RMS_MUTANTS: readonly Mutant[] = [
  // LayerNorm's centring kept: (x - mean)/sqrt(mean((x - mean)²) + eps), i.e. LayerNorm without bias.
  mutant({
    name: 'rms-subtracts-mean', bugClass: 'RMSNorm subtracts the mean before normalising (LayerNorm without bias)',
    seenIn: 'a classic mistake (LayerNorm code adapted to RMSNorm)',
    caughtBy: [{ check: 'rms.forward', quantity: 'y' }],
    parts: { rmsInput: 'centred' },
  }),
  // 1/(sqrt(mean(x²)) + eps): eps added to the root-mean-square instead of under the root.
  mutant({
    name: 'rms-eps-outside-sqrt', bugClass: 'RMSNorm rstd = 1/(sqrt(mean(x²)) + eps) instead of 1/sqrt(mean(x²) + eps)',
    seenIn: 'implementations that divide by norm(x)/sqrt(D) + eps (the original T5 code adds eps under the root; several ports moved it)',
    caughtBy: ['rms.forward.small_values', 'rms.forward.scale_invariance'],
    parts: { rmsRstd: (ms, eps, R) => R(1 / R(R(Math.sqrt(ms)) + eps)) },
  }),
  // eps = None read as LayerNorm's 1e-5 instead of the arithmetic type's epsilon.
  mutant({
    name: 'rms-default-eps-1e-5', bugClass: 'RMSNorm with eps=None uses 1e-5 instead of the epsilon of its arithmetic type',
    seenIn: 'a classic mistake (LayerNorm\'s default carried over; PyTorch uses numeric_limits<opmath_t>::epsilon())',
    caughtBy: ['rms.forward.eps_default'],
    parts: { rmsDefaultEps: () => 1e-5 },
  }),
  // The weight multiplied in before the statistics: normalises w·x, so a uniform weight cancels out.
  mutant({
    name: 'rms-weight-before-normalising', bugClass: 'RMSNorm applies the weight before normalising (rms of weight·x)',
    seenIn: 'a classic mistake (the scale fused into the input instead of the output)',
    caughtBy: [{ check: 'rms.forward', quantity: 'y' }],
    parts: { rmsInput: 'weighted' },
  }),
  // x² accumulated in float32 with no rescaling: a finite row of large values normalises to 0.
  mutant({
    name: 'rms-square-overflows', bugClass: 'RMSNorm squares in float32 without rescaling: |x| past 1.8e19 gives y = 0',
    seenIn: 'the composite x·rsqrt(mean(x²) + eps) in float32, as PyTorch\'s rms_norm computes float32 inputs',
    caughtBy: ['rms.forward.huge_values'],
    parts: { rmsMeanSquare: naiveMeanSquare },
  }),
  // dx = rstd·g: the term through the mean square dropped.
  mutant({
    name: 'rms-backward-no-xhat-term', bugClass: 'RMSNorm backward drops the -x̂·mean(g·x̂) term (dx = rstd·g)',
    seenIn: 'a classic mistake in hand-derived RMSNorm backward passes',
    caughtBy: ['rms.backward.sum_dx_xhat'],
    parts: { rmsDx: (g, _xhat, _m, rstd, R) => R(rstd * g) },
  }),
];
