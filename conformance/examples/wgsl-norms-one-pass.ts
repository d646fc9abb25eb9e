// The example WGSL adapter (wgsl-norms.ts) with one change: the variance is computed in one pass as
// E[x²] - E[x]², the textbook shortcut. normcheck's offset checks must fail it, with a counterexample
// whose replay command reproduces the failure:
//
//   normcheck check dist/conformance/examples/wgsl-norms-one-pass.js --only '*.offset_*'
import { wgslNormsAdapter } from './wgsl-norms.js';

export default wgslNormsAdapter('wgsl-norms-one-pass', 'one-pass',
  'the example WGSL adapter with a one-pass variance E[x²] - E[x]² (fails the offset checks)');
