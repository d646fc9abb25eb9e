/**
 * Every normalisation the suite knows, in catalog order. To add one: write its spec (norms/<norm>.ts) and add
 * it here; README.md's "How to add a normalisation" lists the other files.
 */
import { BATCHNORM } from './batchnorm.js';
import { LAYERNORM } from './layernorm.js';
import type { NormId, NormSpec } from './spec.js';

export const NORMS: readonly NormSpec[] = [BATCHNORM, LAYERNORM];

export const NORM_IDS: readonly NormId[] = NORMS.map((n) => n.id);

export function normById(id: string): NormSpec | undefined {
  return NORMS.find((n) => n.id === id);
}

export type { NormId, NormSpec, NormCase } from './spec.js';
