/** The `kernels-nhwc` adapter: the Float32 kernels on channels-last input (see kernels.ts). */
import { kernelsAdapter } from './kernels.js';

export default kernelsAdapter('NHWC');
