/**
 * Mutants of the adapter contract rather than the math: results right, but inputs written into, or results
 * that change from call to call.
 */
import { twoPassMoments, type Moments, type Round } from './base.js';
import { mutant, type Mutant } from './mutant.js';

/**
 * Two-pass statistics whose summation starts at a position that moves with every call, as a reduction whose
 * order depends on scheduling does (atomics, work stealing): each result is correct to rounding, but two calls
 * on the same input can differ in the last bits.
 */
function rotatingOrderMoments(): (x: ArrayLike<number>, idx: Int32Array, R: Round) => Moments {
  let calls = 0;
  return (x, idx, R) => {
    const start = calls++ % idx.length;
    const order = Int32Array.from({ length: idx.length }, (_, k) => idx[(start + k) % idx.length]!);
    return twoPassMoments(x, order, R);
  };
}

export const CONTRACT_MUTANTS: readonly Mutant[] = [
  // The forward writes y into the input buffer (an in-place op behind an out-of-place API).
  mutant({
    name: 'writes-into-input', bugClass: 'the forward writes its output into the input array',
    seenIn: 'a classic mistake (in-place normalisation behind an out-of-place API)',
    caughtBy: ['hygiene.no_input_mutation'],
    parts: { outputBuffer: (x) => x },
  }),
  // A reduction whose order changes between calls: not reproducible bit for bit.
  mutant({
    name: 'nondeterministic-reduction', bugClass: 'summation order changes from call to call',
    seenIn: 'atomics-based GPU reductions (PyTorch documents such ops under torch.use_deterministic_algorithms)',
    caughtBy: ['hygiene.deterministic'],
    parts: () => ({ moments: rotatingOrderMoments() }),
  }),
];
