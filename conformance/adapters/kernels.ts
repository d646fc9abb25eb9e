/**
 * The `kernels` adapter: normcheck's own Float32 kernels (kernels/) behind the adapter contract.
 * Placeholder until kernels/index.ts exports BatchNorm and LayerNorm.
 */
import { defineAdapter } from '../adapter.js';

export default defineAdapter({
  name: 'kernels',
  description: 'Float32 kernels (kernels/)',
  precision: 'float32',
  layout: 'NCHW',
  profile: 'pytorch',
  available: () => 'kernels/index.ts does not export BatchNorm/LayerNorm kernels yet',
});
