/**
 * normcheck/conformance — check any BatchNorm / LayerNorm implementation against the float64 reference,
 * metamorphic relations, edge cases and PyTorch's golden fixtures, through one adapter contract.
 *
 *   import { defineAdapter, runConformance } from 'normcheck/conformance';
 */
export * from './adapter.js';
export { PROFILES, conventionsFor, isProfileName, type Profile } from './profiles.js';
export { CHECKS, selectChecks, matchesPattern } from './catalog.js';
export { CATEGORIES, type Category, type Check, type CheckRun, type Status, type Worst } from './check.js';
export { compare, type Comparison, type Mismatch } from './compare.js';
export * as errorModel from './error_model.js';
export { PRECISIONS, roundTo, roundToFloat16 } from './precision.js';
export {
  runConformance, replayCommand, exitCodeOf,
  type RunOptions, type RunReport, type AdapterReport, type CheckResult, type Summary, type AdapterEntry, type Outcome,
} from './runner.js';
export { validateAdapter, validateDeclaration, declarationOf, AdapterShapeError, type AdapterDeclaration } from './validate_adapter.js';
export { parseExpectations, loadExpectations, type Expectation } from './expectations.js';
export { BUILTIN_ADAPTERS } from './adapters/index.js';
export { loadAdapter, AdapterLoadError } from './load.js';
export { openHost, isSubprocessSpec, SUBPROCESS_PREFIX, type OpenOptions } from './hosts/open.js';
export type { Host, HostKind, HostMeta, HostOptions, HostStats, Call, CallOptions } from './hosts/host.js';
export { AdapterFailure, NotRun, type FailureKind } from './hosts/failure.js';
export { lowPrecisionNormForward } from './reference_lowp.js';
export { formatReport } from './report/table.js';
export { toJson, writeJson } from './report/json.js';
export { buildJunit, writeJunit } from './report/junit.js';
export { WEBGPU_MARK, webgpuAdapter, type WebGpuAdapter, type WebGpuAdapterSpec } from './webgpu/adapter.js';
export {
  GpuSession, GpuDeviceLostError, GpuValidationError, WgslCompileError, openSession, describeGpu,
  type BindingValue, type GpuArray, type GpuInfo, type UniformValues, type Workgroups,
} from './webgpu/session.js';
