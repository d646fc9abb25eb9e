/**
 * Loader for the golden PyTorch fixtures in fixtures/*.json (format: fixtures/README.md).
 *
 *   listFixtures(kind?)        names of the fixtures, sorted, optionally of one kind
 *   loadFixture(name)          one fixture, every tensor as Float64Array plus its shape
 *   values(fixture, tensor)    the Float64Array of a tensor stored whole, or a clear error
 *   fmix32Uniform(...)         the closed-form initialisation some tensors are stored as
 *
 * Tensors stored as a formula are expanded here and checked against the sample the generator wrote
 * (so a wrong expansion throws at load time instead of failing a test downstream). Tensors too large
 * to store come back with `data: null` and their `sample`, `sumLast`, `sumFirst` instead.
 * Plain Node (fs, JSON.parse); no Python, no torch.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURE_FORMAT = 'normcheck-fixture/1';

/** Directory holding the fixtures (the repository's fixtures/). */
export const fixturesDir = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export type FixtureKind =
  | 'batchnorm' | 'layernorm' | 'groupnorm' | 'instancenorm' | 'rmsnorm' | 'linear' | 'relu' | 'cross_entropy' | 'seed_net';

export interface FixtureTensor {
  shape: number[];
  /** int64 tensors (targets, num_batches_tracked) hold exact integers; they are returned as Float64Array too. */
  dtype: 'float64' | 'int64';
  /** Every value, row-major; null for a sampled tensor. */
  data: Float64Array | null;
  /** Strided sample (flat indices index[k] = k·stride): present for sampled and formula tensors. */
  sample: { stride: number; index: number[]; data: Float64Array } | null;
  /** Sampled matrices only: sum over the last dim (one per row) and over dim 0 (one per column). */
  sumLast: Float64Array | null;
  sumFirst: Float64Array | null;
}

export interface Provenance {
  generator: string;
  torch: string;
  python: string;
  dtype: 'float64';
  seed: number;
  seed_rule: string;
  date: string;
  /** RMSNorm only: how a result torch 1.13 has no module for was computed. */
  computed_with?: string;
}

export interface BatchNormSettings {
  module: 'BatchNorm1d' | 'BatchNorm2d' | 'BatchNorm3d';
  shape: number[];
  num_features: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  track_running_stats: boolean;
  steps: number;
  input: { offset: number; scale: number };
}

export interface LayerNormSettings {
  module: 'LayerNorm';
  shape: number[];
  normalized_shape: number[];
  eps: number;
  elementwise_affine: boolean;
  input: { offset: number; tiny_row: boolean };
}

export interface GroupNormSettings {
  module: 'GroupNorm';
  shape: number[];
  num_groups: number;
  num_channels: number;
  eps: number;
  affine: boolean;
  input: { offset: number };
}

export interface InstanceNormSettings {
  module: 'InstanceNorm1d' | 'InstanceNorm2d' | 'InstanceNorm3d';
  shape: number[];
  num_features: number;
  eps: number;
  momentum: number;
  affine: boolean;
  track_running_stats: boolean;
  steps: number;
  input: { offset: number };
}

export interface RmsNormSettings {
  module: 'RMSNorm';
  shape: number[];
  normalized_shape: number[];
  /** null: PyTorch's eps=None */
  eps: number | null;
  /** the eps used: eps, or torch.finfo(torch.float64).eps for None */
  eps_value: number;
  elementwise_affine: boolean;
  input: { offset: number; zero_row: boolean };
}

export interface LinearSettings {
  module: 'Linear';
  in_features: number;
  out_features: number;
  bias: boolean;
  batch: number;
}

export interface ReluSettings {
  module: 'ReLU';
  shape: number[];
}

export interface CrossEntropySettings {
  function: 'cross_entropy';
  reduction: 'mean';
  batch: number;
  classes: number;
  input: { logit_scale: number; logit_offset: number };
}

export interface SeedNetSettings {
  module: 'SeedNet';
  sizes: [number, number, number, number];
  layers: string;
  loss: string;
  batch: number;
  eps: number;
  momentum: number;
  steps: number;
  sgd: { lr: number; momentum: number; weight_decay: number; dampening: number; nesterov: boolean };
  init: string;
}

interface SettingsByKind {
  batchnorm: BatchNormSettings;
  layernorm: LayerNormSettings;
  groupnorm: GroupNormSettings;
  instancenorm: InstanceNormSettings;
  rmsnorm: RmsNormSettings;
  linear: LinearSettings;
  relu: ReluSettings;
  cross_entropy: CrossEntropySettings;
  seed_net: SeedNetSettings;
}

export interface Fixture<K extends FixtureKind = FixtureKind> {
  name: string;
  kind: K;
  description: string;
  provenance: Provenance;
  settings: SettingsByKind[K];
  /** Keyed by the names in fixtures/README.md: `step0.x`, `eval.dx`, `init.fc1.weight`, … */
  tensors: Record<string, FixtureTensor>;
}

const KINDS: readonly FixtureKind[] = ['batchnorm', 'layernorm', 'groupnorm', 'instancenorm', 'rmsnorm', 'linear', 'relu', 'cross_entropy', 'seed_net'];

// ---------------------------------------------------------------------------------------------
// The closed-form initialisation (same definition as scripts/fixtures/generate.py):
//   key = stream·2^24 + k,  h = fmix32(key),  value = ((h >>> 16) - 32768) · 2^(scaleLog2 - 15)
// Integer steps are exact in 32-bit arithmetic (Math.imul is the low 32 bits of the product, as the
// Python `& 0xFFFFFFFF` is); the value is an integer times a power of two, exact in a double.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** `size` values of the fmix32_uniform formula for `stream` (0..255), in [-2^scaleLog2, 2^scaleLog2). */
export function fmix32Uniform(stream: number, scaleLog2: number, size: number): Float64Array {
  if (!Number.isInteger(stream) || stream < 0 || stream > 255) throw new RangeError(`stream: expected an integer in [0, 255], got ${stream}`);
  if (!Number.isInteger(size) || size < 0 || size >= 2 ** 24) throw new RangeError(`size: expected an integer in [0, 2^24), got ${size}`);
  const step = 2 ** (scaleLog2 - 15);
  const out = new Float64Array(size);
  for (let k = 0; k < size; k++) out[k] = ((fmix32(((stream << 24) | k) >>> 0) >>> 16) - 32768) * step;
  return out;
}

// ---------------------------------------------------------------------------------------------

interface RawTensor {
  shape: number[];
  dtype: 'float64' | 'int64';
  data?: number[];
  sample?: { stride: number; index: number[]; data: number[] };
  sum_last?: number[];
  sum_first?: number[];
  formula?: { name: string; stream: number; scale_log2: number };
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function decodeTensor(fixture: string, name: string, raw: RawTensor): FixtureTensor {
  const where = `fixture ${fixture}, tensor ${name}`;
  const size = sizeOf(raw.shape);
  const sample = raw.sample
    ? { stride: raw.sample.stride, index: raw.sample.index, data: Float64Array.from(raw.sample.data) }
    : null;
  let data: Float64Array | null = null;
  if (raw.data) {
    data = Float64Array.from(raw.data);
  } else if (raw.formula) {
    if (raw.formula.name !== 'fmix32_uniform') throw new Error(`${where}: unknown formula ${raw.formula.name}`);
    data = fmix32Uniform(raw.formula.stream, raw.formula.scale_log2, size);
    sample?.index.forEach((i, k) => {
      // Exact equality: both sides compute the same dyadic rational exactly.
      if (data![i] !== sample.data[k]) throw new Error(`${where}: formula expands to ${data![i]} at ${i}, the generator wrote ${sample.data[k]}`);
    });
  }
  if (data && data.length !== size) throw new Error(`${where}: ${data.length} values for shape [${raw.shape}]`);
  if (!data && !sample) throw new Error(`${where}: neither data, formula nor sample`);
  return {
    shape: raw.shape,
    dtype: raw.dtype,
    data,
    sample,
    sumLast: raw.sum_last ? Float64Array.from(raw.sum_last) : null,
    sumFirst: raw.sum_first ? Float64Array.from(raw.sum_first) : null,
  };
}

/** Names of the fixtures (file names without .json), sorted; only those of `kind` if given. */
export function listFixtures(kind?: FixtureKind): string[] {
  const names = readdirSync(fixturesDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
  if (kind === undefined) return names;
  if (!KINDS.includes(kind)) throw new RangeError(`kind: expected one of ${KINDS.join(', ')}, got ${kind}`);
  return names.filter((n) => loadFixture(n).kind === kind);
}

const cache = new Map<string, Fixture>();

/** Reads and decodes fixtures/<name>.json (cached; callers must not modify the arrays). */
export function loadFixture<K extends FixtureKind = FixtureKind>(name: string, kind?: K): Fixture<K> {
  let fixture = cache.get(name);
  if (!fixture) {
    const raw = JSON.parse(readFileSync(`${fixturesDir}${name}.json`, 'utf8')) as Omit<Fixture, 'tensors'> & {
      format: string;
      tensors: Record<string, RawTensor>;
    };
    if (raw.format !== FIXTURE_FORMAT) throw new Error(`fixture ${name}: format ${raw.format}, this loader reads ${FIXTURE_FORMAT}`);
    const tensors: Record<string, FixtureTensor> = {};
    for (const [t, v] of Object.entries(raw.tensors)) tensors[t] = decodeTensor(name, t, v);
    fixture = { name: raw.name, kind: raw.kind, description: raw.description, provenance: raw.provenance, settings: raw.settings, tensors };
    cache.set(name, fixture);
  }
  if (kind !== undefined && fixture.kind !== kind) throw new Error(`fixture ${name}: expected kind ${kind}, it is ${fixture.kind}`);
  return fixture as Fixture<K>;
}

/** The tensor named `tensor`, or an error naming the fixture and the tensors it has. */
export function tensorOf(fixture: Fixture, tensor: string): FixtureTensor {
  const t = fixture.tensors[tensor];
  if (!t) throw new Error(`fixture ${fixture.name}: no tensor ${tensor} (it has ${Object.keys(fixture.tensors).join(', ')})`);
  return t;
}

/** All values of a tensor stored whole (or as a formula); throws for a sampled one. */
export function values(fixture: Fixture, tensor: string): Float64Array {
  const t = tensorOf(fixture, tensor);
  if (!t.data) throw new Error(`fixture ${fixture.name}: tensor ${tensor} is stored as a sample; read .sample, .sumLast, .sumFirst`);
  return t.data;
}

/** Whether the fixture has a tensor of that name. */
export function hasTensor(fixture: Fixture, tensor: string): boolean {
  return Object.prototype.hasOwnProperty.call(fixture.tensors, tensor);
}
