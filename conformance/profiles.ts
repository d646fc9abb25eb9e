/**
 * Conventions profiles: what "correct" means for each framework family. The float64 reference is configured
 * from the adapter's profile plus its overrides, so a Keras-convention implementation is judged against
 * Keras' conventions, not failed for not being PyTorch.
 *
 * pytorch  torch.nn.BatchNorm*: momentum 0.1 (new = 0.9·old + 0.1·batch), running variance unbiased
 *          (var·M/(M-1)), eps 1e-5, NCHW.
 * keras    tf.keras BatchNormalization: momentum 0.99 is the fraction KEPT (new = 0.99·old + 0.01·batch),
 *          moving variance from the biased batch variance (tf.nn.moments), eps 1e-3, channels-last.
 * onnx     ONNX BatchNormalization (opset 15): momentum 0.9 kept (running = 0.9·running + 0.1·current),
 *          running variance from the population (biased) variance, epsilon 1e-5.
 */
import type { Adapter, Conventions, Layout, ProfileName } from './adapter.js';

export interface Profile extends Conventions {
  name: ProfileName;
  /** The layout implementations following this profile usually take. */
  layout: Layout;
  description: string;
}

export const PROFILES: Record<ProfileName, Profile> = {
  pytorch: {
    name: 'pytorch', momentum: 0.1, runningVar: 'unbiased', eps: 1e-5, layout: 'NCHW',
    description: 'momentum 0.1 = batch fraction, unbiased running variance, eps 1e-5',
  },
  keras: {
    name: 'keras', momentum: 0.01, runningVar: 'biased', eps: 1e-3, layout: 'NHWC',
    description: 'momentum 0.99 = fraction kept, biased moving variance, eps 1e-3, channels-last',
  },
  onnx: {
    name: 'onnx', momentum: 0.1, runningVar: 'biased', eps: 1e-5, layout: 'NCHW',
    description: 'momentum 0.9 = fraction kept, population (biased) running variance, epsilon 1e-5',
  },
};

export function isProfileName(name: string): name is ProfileName {
  return Object.prototype.hasOwnProperty.call(PROFILES, name);
}

/** The conventions an adapter is judged by: the profile (CLI override first), then its own overrides. */
export function conventionsFor(adapter: Pick<Adapter, 'profile' | 'conventions'>, profileOverride?: ProfileName): Conventions {
  const profile = PROFILES[profileOverride ?? adapter.profile ?? 'pytorch'];
  const { momentum, runningVar, eps } = profile;
  return { momentum, runningVar, eps, ...adapter.conventions };
}
