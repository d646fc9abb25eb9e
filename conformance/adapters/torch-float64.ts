/** PyTorch CPU float64 (Python child process, python/normcheck_torch.py): F.batch_norm etc., autograd gradients. */
import { torchAdapter } from './torch/launch.js';

const { adapter, subprocess } = torchAdapter('float64');
export default adapter;
export { subprocess };
