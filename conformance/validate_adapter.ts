/**
 * Validating an adapter's declaration when it is loaded, so a mistake is one error naming the field, not
 * fifty check failures blamed on the adapter (`conventions: {eps: 0}`) or nothing at all
 * (`conventions: 'keras'`, `precison: 'float32'`, `lnFoward() {…}`).
 *
 * Two entry points share every rule:
 *   validateAdapter(value, source)      an adapter object (built-in, a module's default export): its fields
 *                                       and that each capability is a function;
 *   validateDeclaration(meta, source)   the plain declaration a host receives from an adapter running
 *                                       elsewhere (worker thread, subprocess): the same fields, and `methods`,
 *                                       the names of the functions it implements.
 *
 * The rules:
 *   name         non-empty string          precision  'float16' | 'float32' | 'float64'
 *   layout       'NCHW' | 'NHWC'           profile    absent, or 'pytorch' | 'keras' | 'onnx'
 *   description  absent, or a string
 *   conventions  absent, or an object with only these keys:
 *                  eps         a finite number > 0 (added to the variance inside the square root)
 *                  momentum    null (cumulative average) or a number in (0, 1] (fraction of the batch statistic)
 *                  runningVar  'unbiased' | 'biased'
 *   unsupported  absent, or the features (features.ts) it does not support: an array of feature names (for
 *                every capability), or an object whose keys are capabilities or '*' and whose values are such
 *                arrays; a feature no case of that capability's norm can carry is an error (`{ lnForward:
 *                ['batch_of_2'] }` would silently do nothing)
 *   capabilities (CAPABILITIES) and available / setup / teardown: absent, or functions.
 * Other fields. A field that is a near miss of a contract field (equal but for case, `_` or `-`, or within
 * two edits of a name of five letters or more: `precison`, `lnFoward`, `Conventions`) is an error naming
 * both, and so is a convention at the top level (`eps: 1e-3` beside `name`): either would otherwise be
 * ignored and change the verdict without a word (a capability "not provided", a convention not applied).
 * Any other field is the adapter's own API and is accepted without comment: adapters legitimately expose
 * helpers for their own tests and benchmarks (the ONNX Runtime adapters' `sessionCount()`, `runtime()`), and
 * a warning on every run for those would teach users to ignore warnings. Class-based adapters are read
 * through their prototype chain, so methods count as fields.
 *
 * Every field is read once, inside a try: a getter that throws is reported as that field's error, naming the
 * source and the field.
 */
import { CAPABILITIES, type Adapter, type Capability, type Conventions, type Layout, type Precision, type ProfileName, type Unsupported } from './adapter.js';
import { closestNames, nearMiss } from './closest_names.js';
import { FEATURES, isFeature, unknownFeatureMessage, type Feature } from './features.js';
import { describeThrown } from './error_text.js';
import { isProfileName, PROFILES } from './profiles.js';

export class AdapterShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterShapeError';
  }
}

/** What an adapter declares about itself (everything but its functions). */
export const DECLARED_FIELDS = ['name', 'description', 'precision', 'layout', 'profile', 'conventions', 'unsupported'] as const;
/** The adapter's lifecycle hooks. */
export const LIFECYCLE_METHODS = ['available', 'setup', 'teardown'] as const;
/** Every function an adapter may implement: the capabilities and the lifecycle hooks. */
export const ADAPTER_METHODS: readonly string[] = [...CAPABILITIES, ...LIFECYCLE_METHODS];

const PRECISIONS: readonly Precision[] = ['float16', 'float32', 'float64'];
const LAYOUTS: readonly Layout[] = ['NCHW', 'NHWC'];
const CONVENTION_KEYS = ['momentum', 'runningVar', 'eps'] as const;

/** An adapter as a host sees it across a thread or process boundary: its declared fields and its method names. */
export interface AdapterDeclaration {
  name: string;
  description?: string;
  precision: Precision;
  layout: Layout;
  profile?: ProfileName;
  conventions?: Partial<Conventions>;
  /** the features it does not support (adapter.ts Unsupported), as declared */
  unsupported?: Unsupported;
  /** the names of the functions it implements (of ADAPTER_METHODS) */
  methods: string[];
}

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return typeof v === 'function' ? 'a function' : String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return `a ${typeof v}`;
  }
};

const oneOf = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ').replace(/, ([^,]*)$/, ' or $1');

/** Reads `obj[key]` once; a throwing getter becomes an error naming the source and the field. */
function read(obj: object, key: string, source: string, path = 'adapter'): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch (e) {
    throw new AdapterShapeError(`${source}: reading ${path}.${key} threw ${describeThrown(e)}`);
  }
}

/** The string keys of an object and of its prototypes up to (not including) Object.prototype. */
function fieldNames(o: object, source: string): string[] {
  const names = new Set<string>();
  try {
    for (let p: object | null = o; p && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor') names.add(k);
    }
  } catch (e) {
    throw new AdapterShapeError(`${source}: listing the adapter's fields threw ${describeThrown(e)}`);
  }
  return [...names];
}

/** Fields that are near misses of `known`, or conventions put at the top level: errors (see the header). */
function checkFieldNames(keys: readonly string[], known: readonly string[], source: string): void {
  for (const k of keys) {
    if (known.includes(k)) continue;
    if ((CONVENTION_KEYS as readonly string[]).includes(k)) {
      throw new AdapterShapeError(`${source}: adapter.${k} is a convention: declare it as adapter.conventions.${k} (e.g. conventions: { ${k}: … })`);
    }
    const near = nearMiss(k, known);
    if (near) {
      throw new AdapterShapeError(`${source}: adapter.${k} is not a field of the adapter contract; did you mean adapter.${near}? ` +
        '(an adapter\'s own fields and helpers are fine under names that are not a near miss of a contract field)');
    }
  }
}

/** `conventions`: an object of known keys with values in range (rules in the header). */
export function validateConventions(c: unknown, source: string, path = 'adapter.conventions'): Partial<Conventions> | undefined {
  if (c === undefined) return undefined;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) {
    const hint = typeof c === 'string' && isProfileName(c) ? ` (for ${c}'s conventions as a whole, set adapter.profile: '${c}')` : '';
    throw new AdapterShapeError(`${source}: ${path} must be an object such as { eps: 1e-3 } with keys ${CONVENTION_KEYS.join(', ')}, got ${show(c)}${hint}`);
  }
  for (const k of fieldNames(c, source)) {
    if ((CONVENTION_KEYS as readonly string[]).includes(k)) continue;
    const near = k.toLowerCase().startsWith('eps') ? ['eps'] : closestNames(k, CONVENTION_KEYS);
    throw new AdapterShapeError(`${source}: ${path}.${k} is not a convention${near.length ? `; did you mean ${near.map((n) => `${path}.${n}`).join(' or ')}?` : ''} ` +
      `(the conventions are ${CONVENTION_KEYS.join(', ')})`);
  }
  const out: Partial<Conventions> = {};
  const eps = read(c, 'eps', source, path);
  if (eps !== undefined) {
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) {
      throw new AdapterShapeError(`${source}: ${path}.eps must be a finite number > 0 (added to the variance inside the square root), got ${show(eps)}`);
    }
    out.eps = eps;
  }
  const momentum = read(c, 'momentum', source, path);
  if (momentum !== undefined) {
    if (momentum !== null && (typeof momentum !== 'number' || !(momentum > 0 && momentum <= 1))) {
      throw new AdapterShapeError(`${source}: ${path}.momentum must be null (cumulative average) or a number in (0, 1], ` +
        `the fraction of the batch statistic in the new running value (Keras' 0.99 is 0.01 here), got ${show(momentum)}`);
    }
    out.momentum = momentum;
  }
  const runningVar = read(c, 'runningVar', source, path);
  if (runningVar !== undefined) {
    if (runningVar !== 'unbiased' && runningVar !== 'biased') throw new AdapterShapeError(`${source}: ${path}.runningVar must be 'unbiased' or 'biased', got ${show(runningVar)}`);
    out.runningVar = runningVar;
  }
  return out;
}

/** The norm a capability belongs to, by its prefix: bnTrainForward → bn. */
const normOf = (cap: string) => /^(bn|ln|gn|in|rms)/.exec(cap)?.[1] ?? null;

/** One list of feature names: every name a feature; for a capability, one its norm's cases can carry. */
function featureList(v: unknown, source: string, path: string, cap: Capability | null): Feature[] {
  if (!Array.isArray(v)) throw new AdapterShapeError(`${source}: ${path} must be an array of feature names such as ['rank5', 'no_affine'], got ${show(v)}`);
  for (const [i, f] of v.entries()) {
    if (!isFeature(f)) throw new AdapterShapeError(`${source}: ${path}[${i}]: ${typeof f === 'string' ? unknownFeatureMessage(f) : `expected a feature name, got ${show(f)}`}`);
    const norm = cap ? normOf(cap) : null;
    if (norm && !(FEATURES[f].norms as readonly string[]).includes(norm)) {
      throw new AdapterShapeError(`${source}: ${path}[${i}]: no case of ${cap} has ${f} (${FEATURES[f].meaning}); it occurs in the cases of ${FEATURES[f].norms.join(', ')}`);
    }
  }
  return [...new Set(v as Feature[])];
}

/** `unsupported`: a feature list, or an object of feature lists keyed by capability or '*' (rules in the header). */
export function validateUnsupported(u: unknown, source: string, path = 'adapter.unsupported'): Unsupported | undefined {
  if (u === undefined) return undefined;
  if (Array.isArray(u)) return featureList(u, source, path, null);
  if (u === null || typeof u !== 'object') {
    throw new AdapterShapeError(`${source}: ${path} must be an array of feature names or an object of them by capability ({ bnBackward: ['no_affine'] }), got ${show(u)}`);
  }
  const keys = [...CAPABILITIES, '*'];
  const out: Partial<Record<Capability | '*', Feature[]>> = {};
  for (const k of fieldNames(u, source)) {
    if (!keys.includes(k)) {
      const miss = nearMiss(k, CAPABILITIES);
      const near = miss ? [miss] : closestNames(k, CAPABILITIES);
      throw new AdapterShapeError(`${source}: ${path}.${k} is not a capability${near.length ? `; did you mean ${near.map((n) => `${path}.${n}`).join(' or ')}?` : ''} ` +
        `(keys are capability names, or '*' for every capability)`);
    }
    out[k as Capability | '*'] = featureList(read(u, k, source, path), source, `${path}.${k}`, k === '*' ? null : (k as Capability));
  }
  return out;
}

/** The declared fields (name … unsupported), read and checked. */
function declaredFields(o: object, source: string): Omit<AdapterDeclaration, 'methods'> {
  const name = read(o, 'name', source);
  if (typeof name !== 'string' || !name.trim()) throw new AdapterShapeError(`${source}: adapter.name must be a non-empty string, got ${show(name)}`);
  const precision = read(o, 'precision', source);
  if (!PRECISIONS.includes(precision as Precision)) throw new AdapterShapeError(`${source}: adapter.precision must be ${oneOf(PRECISIONS)}, got ${show(precision)}`);
  const layout = read(o, 'layout', source);
  if (!LAYOUTS.includes(layout as Layout)) throw new AdapterShapeError(`${source}: adapter.layout must be ${oneOf(LAYOUTS)}, got ${show(layout)}`);
  const profile = read(o, 'profile', source);
  if (profile !== undefined && (typeof profile !== 'string' || !isProfileName(profile))) {
    throw new AdapterShapeError(`${source}: adapter.profile must be ${oneOf(Object.keys(PROFILES))}, got ${show(profile)}`);
  }
  const description = read(o, 'description', source);
  if (description !== undefined && typeof description !== 'string') throw new AdapterShapeError(`${source}: adapter.description must be a string, got ${show(description)}`);
  const conventions = validateConventions(read(o, 'conventions', source), source);
  const unsupported = validateUnsupported(read(o, 'unsupported', source), source);
  return {
    name, precision: precision as Precision, layout: layout as Layout,
    ...(description !== undefined ? { description } : {}),
    ...(profile !== undefined ? { profile: profile as ProfileName } : {}),
    ...(conventions !== undefined ? { conventions } : {}),
    ...(unsupported !== undefined ? { unsupported } : {}),
  };
}

function expectObject(a: unknown, source: string, what: string): object {
  if (a === null || typeof a !== 'object') throw new AdapterShapeError(`${source}: expected ${what}, got ${a === null ? 'null' : typeof a}`);
  return a;
}

/** An adapter object: declared fields, functions where functions belong, no near-miss fields. Throws AdapterShapeError. */
export function validateAdapter(a: unknown, source: string): Adapter {
  const o = expectObject(a, source, 'an adapter object');
  checkFieldNames(fieldNames(o, source), [...DECLARED_FIELDS, ...ADAPTER_METHODS], source);
  declaredFields(o, source);
  for (const m of ADAPTER_METHODS) {
    const f = read(o, m, source);
    if (f !== undefined && typeof f !== 'function') throw new AdapterShapeError(`${source}: adapter.${m} must be a function when present, got ${show(f)}`);
  }
  return a as Adapter;
}

/**
 * A declaration received from an adapter running elsewhere: the same rules, `methods` (names) instead of
 * functions. Method names the suite does not know are dropped (it would never call them); near misses are errors.
 */
export function validateDeclaration(meta: unknown, source: string): AdapterDeclaration {
  const o = expectObject(meta, source, 'an adapter declaration object');
  checkFieldNames(fieldNames(o, source), [...DECLARED_FIELDS, 'methods'], source);
  const fields = declaredFields(o, source);
  const methods = read(o, 'methods', source);
  if (!Array.isArray(methods) || !methods.every((m) => typeof m === 'string')) {
    throw new AdapterShapeError(`${source}: the declaration's methods must be an array of the names of the functions the adapter implements, got ${show(methods)}`);
  }
  checkFieldNames(methods as string[], ADAPTER_METHODS, source);
  return { ...fields, methods: ADAPTER_METHODS.filter((m) => methods.includes(m)) };
}

/** The declaration of a loaded (validated) adapter, for sending across a thread or process boundary. */
export function declarationOf(adapter: Adapter): AdapterDeclaration {
  const { name, description, precision, layout, profile, conventions, unsupported } = adapter;
  return {
    name, precision, layout,
    ...(description !== undefined ? { description } : {}),
    ...(profile !== undefined ? { profile } : {}),
    ...(conventions !== undefined ? { conventions: { ...conventions } } : {}),
    ...(unsupported !== undefined ? { unsupported: Array.isArray(unsupported) ? [...unsupported] : JSON.parse(JSON.stringify(unsupported)) as Unsupported } : {}),
    methods: ADAPTER_METHODS.filter((m) => typeof (adapter as unknown as Record<string, unknown>)[m] === 'function'),
  };
}
