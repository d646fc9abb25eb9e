/**
 * The adapter skeleton `normcheck init` writes: every capability of the contract (conformance/adapter.ts),
 * each with its arguments, their shapes in the chosen layout, what it returns, and the PyTorch function it
 * mirrors — commented out, so the file passes `normcheck check` unchanged with every capability reported
 * "not provided", and each one starts to count when its block is uncommented and filled in.
 *
 * DOCS is typed from the contract (CapabilityArgs / CapabilityResult): a capability, argument or result
 * field added to conformance/adapter.ts fails the typecheck here until the skeleton documents it, so the
 * skeleton cannot fall behind the contract.
 */
import { CAPABILITIES, type Capability, type CapabilityArgs, type CapabilityResult, type Layout, type Precision } from '../conformance/adapter.js';
import { PROFILES } from '../conformance/profiles.js';

/** One line per field: shape (in `{X}` for the layout's x shape) and meaning. */
type Fields<T> = { readonly [K in keyof Required<T>]: string };

interface CapabilityDoc<K extends Capability> {
  /** What it computes, and the PyTorch call with the same semantics. */
  title: string;
  args: Fields<CapabilityArgs<K>>;
  /** Result fields; those the contract makes optional say "optional" first. */
  result: Fields<CapabilityResult<K>>;
}

const GRADS = {
  dx: '{X}  ∂loss/∂x',
  dweight: '(C)  ∂loss/∂weight; null when weight is null',
  dbias: '(C)  ∂loss/∂bias; null when bias is null',
} as const;

const ROW_GRADS = {
  dx: '(...outer, ...normalizedShape)  ∂loss/∂x',
  dweight: 'normalizedShape  ∂loss/∂weight; null when weight is null',
  dbias: 'normalizedShape  ∂loss/∂bias; null when bias is null',
} as const;

export const DOCS: { readonly [K in Capability]: CapabilityDoc<K> } = {
  bnTrainForward: {
    title: 'BatchNorm, training mode: normalise with the batch statistics and update the running ones (torch.nn.functional.batch_norm(training=True))',
    args: {
      x: '{X}  the input, in this adapter\'s layout',
      shape: 'the dimensions of x, {X}',
      weight: '(C) or null (affine=False)',
      bias: '(C) or null',
      runningMean: '(C)  the running mean before this step (do not modify it: return a new array), or null: track_running_stats=False',
      runningVar: '(C)  the running variance before this step, or null with runningMean',
      numBatchesTracked: 'steps already taken; with momentum null the step\'s factor is 1/(numBatchesTracked + 1)',
      momentum: 'fraction of the batch statistic in the new running value (PyTorch\'s meaning), or null: cumulative average',
      eps: 'added to the variance inside the square root',
    },
    result: {
      y: '{X}  (x - mean)/sqrt(var + eps)·weight + bias, mean and biased var per channel over N and the spatial positions',
      runningMean: '(C)  (1 - momentum)·runningMean + momentum·mean; null (or left out) when runningMean was null',
      runningVar: '(C)  (1 - momentum)·runningVar + momentum·var·M/(M - 1), the unbiased variance (M = values per channel); null as runningMean',
      numBatchesTracked: 'optional: numBatchesTracked + 1 (PyTorch\'s num_batches_tracked after the step); checked when present',
      mean: 'optional: (C)  the batch mean; checked when present',
      rstd: 'optional: (C)  1/sqrt(var + eps); checked when present',
    },
  },
  bnEvalForward: {
    title: 'BatchNorm, eval mode: normalise with the running statistics (torch.nn.functional.batch_norm(training=False))',
    args: {
      x: '{X}  the input',
      shape: 'the dimensions of x, {X}',
      weight: '(C) or null',
      bias: '(C) or null',
      runningMean: '(C)',
      runningVar: '(C)',
      eps: 'added to the variance inside the square root',
    },
    result: { y: '{X}  (x - runningMean)/sqrt(runningVar + eps)·weight + bias' },
  },
  bnBackward: {
    title: 'BatchNorm backward: the gradients of the forward above for an upstream gradient dy',
    args: {
      dy: '{X}  ∂loss/∂y',
      x: '{X}  the forward input',
      shape: 'the dimensions of x, {X}',
      weight: '(C) or null',
      bias: '(C) or null',
      training: 'true: training-mode forward (the batch statistics depend on x); false: eval mode',
      runningMean: '(C), eval mode only: the running statistics the forward used; null in training mode',
      runningVar: '(C) or null, as runningMean',
      eps: 'added to the variance inside the square root',
    },
    result: GRADS,
  },
  lnForward: {
    title: 'LayerNorm: normalise each row over the trailing normalizedShape dimensions (torch.nn.functional.layer_norm)',
    args: {
      x: '(...outer, ...normalizedShape)  layout-free; rows = product of the outer dimensions',
      shape: 'the dimensions of x',
      normalizedShape: 'the trailing dimensions normalised together (D values per row)',
      weight: 'normalizedShape or null (elementwise_affine=False)',
      bias: 'normalizedShape or null',
      eps: 'added to the variance inside the square root',
    },
    result: {
      y: '(...outer, ...normalizedShape)  (x - mean)/sqrt(var + eps)·weight + bias per row, var biased',
      mean: 'optional: (rows)  checked when present',
      rstd: 'optional: (rows)  1/sqrt(var + eps); checked when present',
    },
  },
  lnBackward: {
    title: 'LayerNorm backward',
    args: {
      dy: '(...outer, ...normalizedShape)  ∂loss/∂y',
      x: '(...outer, ...normalizedShape)  the forward input',
      shape: 'the dimensions of x',
      normalizedShape: 'the trailing dimensions normalised together',
      weight: 'normalizedShape or null',
      bias: 'normalizedShape or null',
      eps: 'added to the variance inside the square root',
    },
    result: ROW_GRADS,
  },
  gnForward: {
    title: 'GroupNorm: per sample, C channels in numGroups consecutive groups, statistics over each group\'s channels × spatial positions (torch.nn.functional.group_norm)',
    args: {
      x: '{X}  the input, in this adapter\'s layout',
      shape: 'the dimensions of x, {X}',
      numGroups: 'G, a divisor of C (throw if it is not)',
      weight: '(C) or null (affine=False)',
      bias: '(C) or null',
      eps: 'added to the variance inside the square root',
    },
    result: {
      y: '{X}  (x - mean)/sqrt(var + eps)·weight + bias, var biased',
      mean: 'optional: (N·G)  n-major (index n·G + g); checked when present',
      rstd: 'optional: (N·G)  1/sqrt(var + eps); checked when present',
    },
  },
  gnBackward: {
    title: 'GroupNorm backward',
    args: {
      dy: '{X}  ∂loss/∂y',
      x: '{X}  the forward input',
      shape: 'the dimensions of x, {X}',
      numGroups: 'G',
      weight: '(C) or null',
      bias: '(C) or null',
      eps: 'added to the variance inside the square root',
    },
    result: GRADS,
  },
  inForward: {
    title: 'InstanceNorm: statistics per sample and channel over the spatial positions (torch.nn.functional.instance_norm)',
    args: {
      x: '{X}  the input, in this adapter\'s layout',
      shape: 'the dimensions of x, {X}',
      weight: '(C) or null (affine=False, PyTorch\'s default)',
      bias: '(C) or null',
      runningMean: '(C) or null (track_running_stats=False); do not modify it',
      runningVar: '(C) or null',
      useInputStats: 'true: normalise with each instance\'s own statistics (and update the running buffers when given); false: with the running ones',
      momentum: 'fraction of the new statistic in the running buffers (PyTorch\'s meaning)',
      eps: 'added to the variance inside the square root',
    },
    result: {
      y: '{X}  (x - mean)/sqrt(var + eps)·weight + bias',
      runningMean: 'optional: (C)  required when running buffers were given and useInputStats: the batch average of each instance\'s (1 - momentum)·old + momentum·mean',
      runningVar: 'optional: (C)  as runningMean, with the unbiased variance S/(S - 1)·var (S = spatial positions)',
      mean: 'optional: (N·C)  n-major; checked when present',
      rstd: 'optional: (N·C)  1/sqrt(var + eps); checked when present',
    },
  },
  inBackward: {
    title: 'InstanceNorm backward',
    args: {
      dy: '{X}  ∂loss/∂y',
      x: '{X}  the forward input',
      shape: 'the dimensions of x, {X}',
      weight: '(C) or null',
      bias: '(C) or null',
      useInputStats: 'true: the statistics are the instance\'s own and depend on x; false: the running ones, constants',
      runningMean: '(C) or null: the running statistics the forward used (useInputStats false)',
      runningVar: '(C) or null',
      eps: 'added to the variance inside the square root',
    },
    result: GRADS,
  },
  rmsForward: {
    title: 'RMSNorm: y = x/sqrt(mean(x²) + eps)·weight over the trailing normalizedShape dimensions; no mean subtraction, no bias (torch.nn.functional.rms_norm, PyTorch ≥ 2.4)',
    args: {
      x: '(...outer, ...normalizedShape)  layout-free',
      shape: 'the dimensions of x',
      normalizedShape: 'the trailing dimensions normalised together',
      weight: 'normalizedShape or null (elementwise_affine=False)',
      eps: 'a number, or null: PyTorch\'s default, the epsilon of the arithmetic type (2^-23 for float32 and float16, which ATen computes in float; 2^-52 float64)',
    },
    result: {
      y: '(...outer, ...normalizedShape)',
      rstd: 'optional: (rows)  1/sqrt(mean(x²) + eps); checked when present',
    },
  },
  rmsBackward: {
    title: 'RMSNorm backward (dbias is always null: RMSNorm has no bias)',
    args: {
      dy: '(...outer, ...normalizedShape)  ∂loss/∂y',
      x: '(...outer, ...normalizedShape)  the forward input',
      shape: 'the dimensions of x',
      normalizedShape: 'the trailing dimensions normalised together',
      weight: 'normalizedShape or null',
      eps: 'a number, or null (see rmsForward)',
    },
    result: { ...ROW_GRADS, dbias: 'null' },
  },
};

export interface SkeletonOptions {
  /** The adapter's name, shown in every report line. */
  name: string;
  layout: Layout;
  precision: Precision;
  /** TypeScript (defineAdapter from normcheck/conformance, typed) or an ES module with a JSDoc type. */
  typescript: boolean;
  /** Capabilities written live instead of commented out (the tests use it to load every block). */
  enabled?: readonly Capability[];
}

const X_SHAPE: Record<Layout, string> = { NCHW: '(N, C, ...spatial)', NHWC: '(N, ...spatial, C)' };

function arrayType(precision: Precision): string {
  return precision === 'float64' ? 'Float64Array' : 'Float32Array';
}

const WIDTH = 116;

/** `first + text`, wrapped at word boundaries to WIDTH columns, continuation lines starting with `rest`. */
function wrap(first: string, text: string, rest: string): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > WIDTH && line.trim() !== first.trim()) {
      lines.push(line);
      line = rest;
    }
    line += (line === first || line === rest ? '' : ' ') + word;
  }
  return [...lines, line];
}

/** `name  text` columns, every line prefixed, long descriptions wrapped under their column. */
function fieldLines(prefix: string, fields: Record<string, string>, xShape: string): string[] {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  return Object.entries(fields).flatMap(([k, v]) => wrap(`${prefix}${k.padEnd(width)}  `, v.replaceAll('{X}', xShape), `${prefix}${' '.repeat(width + 4)}`));
}

/** A JavaScript string literal in single quotes. */
const quote = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;

function capabilityBlock(cap: Capability, o: SkeletonOptions): string[] {
  const doc = DOCS[cap] as CapabilityDoc<Capability>;
  const xShape = X_SHAPE[o.layout];
  const args = Object.keys(doc.args);
  const required = Object.entries(doc.result).filter(([, v]) => !v.startsWith('optional')).map(([k]) => k);
  const live = o.enabled?.includes(cap) ?? false;
  const code = live ? '  ' : '  // ';
  return [
    ...wrap('  // ', `${doc.title}.`, '  //   '),
    '  // arguments:',
    ...fieldLines('  //   ', doc.args, xShape),
    `  // returns { ${Object.keys(doc.result).join(', ')} }, arrays as ${arrayType(o.precision)}:`,
    ...fieldLines('  //   ', doc.result, xShape),
    `${code}${cap}({ ${args.join(', ')} }) {`,
    `${code}  // Call your implementation here and return { ${required.join(', ')} }.`,
    `${code}  throw new Error('${cap}: not implemented yet');`,
    `${code}},`,
    '',
  ];
}

/** The skeleton's text. */
export function skeleton(o: SkeletonOptions): string {
  const arrays = arrayType(o.precision);
  const head = [
    `// A normcheck adapter: how the conformance suite reaches your implementation (written by normcheck init).`,
    '//',
    '// Every capability below is commented out, so `npx normcheck check <this file>` reports each one "not provided".',
    '// Uncomment a block, call your implementation from it, and its checks start to run; delete the blocks your',
    '// implementation does not support (they stay "not provided", never "failed"). `npx normcheck list` shows',
    '// every check; `npx normcheck check <this file> --quick` runs them in seconds.',
    '//',
    ...wrap('// ', `Arrays: ${o.precision} — every array you receive and return is a ${arrays}${o.precision === 'float16' ? ' holding values exactly representable in half precision (results are judged at half precision)' : ''}.`, '// '),
    `// Layout: ${o.layout} — BatchNorm, GroupNorm and InstanceNorm inputs are ${X_SHAPE[o.layout]}; LayerNorm and RMSNorm`,
    '// inputs are (...outer, ...normalizedShape) in any layout. C = channels, N = batch.',
    '// Calls are stateless: running statistics come in as arguments and go back in the result. Never modify an',
    '// array you are given (the hygiene checks verify it). Any function may return a Promise.',
  ];
  const fields = [
    `  name: ${quote(o.name)},`,
    `  description: 'my normalisation layers', // one line for reports`,
    `  precision: '${o.precision}', // 'float16' | 'float32' | 'float64'`,
    `  layout: '${o.layout}', // 'NCHW' | 'NHWC'`,
    ...wrap('  // ', `Conventions of the BatchNorm running statistics: ${Object.values(PROFILES).map((p) => `'${p.name}' (${p.description})`).join('; ')}.`, '  // '),
    "  profile: 'pytorch',",
    "  // Single conventions that differ from the profile, e.g. conventions: { runningVar: 'biased' },",
    ...wrap('  // ', `Features your implementation does not support (npx normcheck list shows them): their cases are not drawn for it and every report says so, e.g. unsupported: ['rank5'] or unsupported: { bnBackward: ['no_affine'] },`, '  // '),
    '',
    '  // Optional lifecycle: available() returns true or a one-line reason this adapter cannot run here',
    "  // ('not installed: npm install <pkg>' when a package it needs is absent, which fails nothing);",
    '  // setup() runs once before the first check, teardown() once after the last.',
    '  // async available() { return true; },',
    '  // async setup() {},',
    '  // async teardown() {},',
    '',
  ];
  const body = CAPABILITIES.flatMap((cap) => capabilityBlock(cap, o));
  body.pop();
  const open = o.typescript
    ? ["import { defineAdapter } from 'normcheck/conformance';", '', 'export default defineAdapter({']
    : ["/** @type {import('normcheck/conformance').Adapter} */", 'export default {'];
  return [...head, '', ...open, ...fields, ...body, o.typescript ? '});' : '};', ''].join('\n');
}
