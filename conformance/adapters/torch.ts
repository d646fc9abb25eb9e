/** PyTorch CPU float32 (Python child process, python/normcheck_torch.py): F.batch_norm etc., autograd gradients. */
import { torchAdapter } from './torch/launch.js';

const { adapter, subprocess } = torchAdapter('float32');
export default adapter;
export { subprocess };
