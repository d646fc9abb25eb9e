/**
 * normcheck/reference — float64 reference implementations, written to be read.
 * One file per operation; each opens with the math and the derivation of its backward pass.
 */
export { ArgumentError, ShapeError, ValueError } from './args.js';
export * from './shape.js';
export * from './batchnorm.js';
export * from './layernorm.js';
export * from './groupnorm.js';
export * from './instancenorm.js';
export * from './rmsnorm.js';
export * from './linear.js';
export * from './relu.js';
export * from './cross_entropy.js';
export * from './sgd.js';
export * from './network.js';
export * from './sharded_stats.js';
export * from './gradcheck.js';
export * from './random.js';
