/**
 * Every normalisation the suite knows, in catalog order. To add one: write its spec (norms/<norm>.ts) and add
 * it here; README.md's "How to add a normalisation" lists the other files.
 */
import { BATCHNORM } from './batchnorm.js';
import { GROUPNORM } from './groupnorm.js';
import { INSTANCENORM } from './instancenorm.js';
import { LAYERNORM } from './layernorm.js';
import { RMSNORM } from './rmsnorm.js';
import type { NormId, NormSpec } from './spec.js';

export const NORMS: readonly NormSpec[] = [BATCHNORM, LAYERNORM, GROUPNORM, INSTANCENORM, RMSNORM];

export const NORM_IDS: readonly NormId[] = NORMS.map((n) => n.id);

export function normById(id: string): NormSpec | undefined {
  return NORMS.find((n) => n.id === id);
}

export type { NormId, NormSpec, NormCase } from './spec.js';
