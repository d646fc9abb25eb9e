/** RMSNorm benchmark cases: forward, and forward + backward, on (4096, 768) (the shared machinery: ../family.ts). */
import type { BenchCase } from '../harness.js';
import { familyCases } from '../family.js';

export const cases: BenchCase[] = familyCases('rms');
