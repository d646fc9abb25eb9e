/**
 * The `torch` built-in adapters: PyTorch's CPU layers in a Python child process (python/normcheck_torch.py,
 * over the wire protocol), declared here so that `normcheck list` and the runner know them without
 * starting Python. `available()` looks for a Python that has torch and numpy (hosts/python.ts:
 * NORMCHECK_PYTHON, python3, /usr/bin/python3); without one the adapter is "not installed" with the command
 * that installs Debian's. The declaration is only a facade: its capabilities live in the child, which
 * declares them in its handshake (hosts/open.ts starts it).
 */
import { defineAdapter, NOT_INSTALLED, type Adapter } from '../../adapter.js';
import { packageFile } from '../../hosts/package_file.js';
import { findPython } from '../../hosts/python.js';
import type { SubprocessLaunch } from '../../hosts/subprocess.js';

export const TORCH_INSTALL = 'apt-get install -y --no-install-recommends python3-torch';

export function torchAdapter(precision: 'float32' | 'float64'): { adapter: Adapter; subprocess: SubprocessLaunch } {
  const name = precision === 'float32' ? 'torch' : 'torch-float64';
  const adapter = defineAdapter({
    name, precision, layout: 'NCHW', profile: 'pytorch',
    description: `PyTorch CPU ${precision} (Python child process): F.batch_norm, layer_norm, group_norm, instance_norm, RMSNorm (F.rms_norm, or before PyTorch 2.4 its composite from torch ops), autograd gradients`,
    available() {
      const found = findPython(['torch', 'numpy']);
      return 'python' in found ? true : `${NOT_INSTALLED}${TORCH_INSTALL} (or pip install torch numpy; ${found.missing})`;
    },
  });
  const subprocess: SubprocessLaunch = {
    argv() {
      const found = findPython(['torch', 'numpy']);
      if (!('python' in found)) throw new Error(found.missing);
      return [found.python, packageFile('python/normcheck_torch.py'), '--precision', precision, '--name', name];
    },
  };
  return { adapter, subprocess };
}
