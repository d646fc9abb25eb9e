/** GroupNorm benchmark cases: forward, and forward + backward, on (16, 64, 56, 56) NCHW (the shared machinery: ../family.ts). */
import type { BenchCase } from '../harness.js';
import { familyCases } from '../family.js';

export const cases: BenchCase[] = familyCases('gn');
