/**
 * Mutants of the running-statistics update (training mode): momentum convention, Bessel correction,
 * momentum = None. The forward output is right in all of them; only the buffers carried to eval are wrong.
 */
import { mutant, type Mutant } from './mutant.js';

export const BN_RUNNING_MUTANTS: readonly Mutant[] = [
  // Running variance updated with the biased batch variance. Right under Keras and ONNX (profiles.ts), wrong
  // under PyTorch, whose running_var takes the unbiased var·M/(M-1): code moved between the conventions
  // drops (or adds) the factor. At M values per channel the update is off by a factor (M-1)/M.
  mutant({
    name: 'running-var-biased', bugClass: 'running variance updated with the biased variance (PyTorch profile)',
    seenIn: 'porting between Keras/ONNX (biased moving variance) and PyTorch (unbiased running_var)',
    caughtBy: [{ check: 'bn.train.running_var', quantity: 'runningVar after step' }],
    parts: { runningVariance: (v) => v },
  }),
  // Keras' momentum convention applied to PyTorch's momentum: new = m·old + (1-m)·batch with m = 0.1, so the
  // buffers keep 10% of the old value instead of 90%.
  // Seen in: the reason PyTorch's BatchNorm documentation warns that its momentum "is different from one used
  // in optimizer classes and the conventional notion of momentum"; Keras and ONNX momentum is the fraction kept.
  mutant({
    name: 'keras-momentum-under-pytorch', bugClass: 'momentum taken as the fraction kept (Keras) under the PyTorch profile',
    seenIn: 'PyTorch BatchNorm docs warn of it; Keras/ONNX momentum (0.99/0.9) is the fraction kept',
    caughtBy: [{ check: 'bn.train.running_mean', quantity: 'runningMean after step' }, 'bn.train.running_var'],
    parts: { blend: (old, batch, f, R) => R(R(f * old) + R((1 - f) * batch)) },
  }),
  // momentum = None (PyTorch: cumulative moving average, f = 1/(n+1) after n tracked batches) treated as
  // the default momentum 0.1.
  mutant({
    name: 'momentum-none-as-default', bugClass: 'momentum = None treated as momentum 0.1 instead of the cumulative average',
    seenIn: 'a classic mistake (None falling back to the default)',
    caughtBy: ['bn.train.cumulative_average'],
    parts: { runningFraction: (momentum) => momentum ?? 0.1 },
  }),
];
