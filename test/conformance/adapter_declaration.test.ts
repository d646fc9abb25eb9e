/**
 * An adapter's declaration is validated when it is loaded, naming the source and the field: conventions
 * that are not an object or hold values out of range, near-miss field names (a typo must not change the
 * verdict silently), conventions put at the top level, capabilities that are not functions, getters and
 * factories that throw. The same rules hold for a plain declaration (what a worker or subprocess host
 * receives) and for adapter objects passed to runConformance; every adapter this repository ships passes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { CAPABILITIES, type Adapter } from '../../conformance/adapter.js';
import reference from '../../conformance/adapters/reference.js';
import { BUILTIN_ADAPTERS } from '../../conformance/adapters/index.js';
import example from '../../conformance/examples/my-batchnorm.js';
import { loadAdapter } from '../../conformance/load.js';
import { CORRECT_VARIANTS, MUTANTS } from '../../conformance/mutants/gallery.js';
import { runConformance } from '../../conformance/runner.js';
import { AdapterShapeError, declarationOf, validateAdapter, validateDeclaration } from '../../conformance/validate_adapter.js';

const dir = mkdtempSync(join(tmpdir(), 'normcheck-decl-'));
const base = { name: 'a', precision: 'float32', layout: 'NCHW' };

function module(name: string, body: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, body);
  return file;
}

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
  return { code, stdout, stderr };
}

const rejects = (a: unknown, message: RegExp) => expect(() => validateAdapter(a, 'my.mjs')).toThrow(message);

describe('an adapter declaration', () => {
  it.each([
    [{ conventions: 'keras' }, /my\.mjs: adapter\.conventions must be an object such as \{ eps: 1e-3 \}.*got "keras" \(for keras's conventions as a whole, set adapter\.profile: 'keras'\)/],
    [{ conventions: null }, /adapter\.conventions must be an object/],
    [{ conventions: [0.1] }, /adapter\.conventions must be an object/],
    [{ conventions: { eps: 0 } }, /adapter\.conventions\.eps must be a finite number > 0 .* got 0/],
    [{ conventions: { eps: -1e-5 } }, /adapter\.conventions\.eps must be a finite number > 0/],
    [{ conventions: { eps: Infinity } }, /adapter\.conventions\.eps must be a finite number > 0/],
    [{ conventions: { eps: '1e-5' } }, /adapter\.conventions\.eps must be a finite number > 0 .* got "1e-5"/],
    [{ conventions: { momentum: 0 } }, /adapter\.conventions\.momentum must be null \(cumulative average\) or a number in \(0, 1\]/],
    [{ conventions: { momentum: 1.5 } }, /adapter\.conventions\.momentum must be null/],
    [{ conventions: { momentum: NaN } }, /adapter\.conventions\.momentum must be null/],
    [{ conventions: { runningVar: 'unbiassed' } }, /adapter\.conventions\.runningVar must be 'unbiased' or 'biased', got "unbiassed"/],
    [{ conventions: { epsilon: 1e-3 } }, /adapter\.conventions\.epsilon is not a convention; did you mean adapter\.conventions\.eps\?/],
    [{ conventions: { running_var: 'biased' } }, /adapter\.conventions\.running_var is not a convention; did you mean adapter\.conventions\.runningVar\?/],
    [{ precison: 'float32' }, /my\.mjs: adapter\.precison is not a field of the adapter contract; did you mean adapter\.precision\?/],
    [{ lnFoward() {} }, /adapter\.lnFoward is not a field of the adapter contract; did you mean adapter\.lnForward\?/],
    [{ Conventions: { eps: 1e-3 } }, /adapter\.Conventions .*did you mean adapter\.conventions\?/],
    [{ eps: 1e-3 }, /my\.mjs: adapter\.eps is a convention: declare it as adapter\.conventions\.eps/],
    [{ momentum: 0.01 }, /adapter\.momentum is a convention: declare it as adapter\.conventions\.momentum/],
    [{ bnTrainForward: 3 }, /adapter\.bnTrainForward must be a function when present, got 3/],
    [{ setup: 'yes' }, /adapter\.setup must be a function when present/],
    [{ description: 7 }, /adapter\.description must be a string/],
    [{ profile: 'tensorflow' }, /adapter\.profile must be 'pytorch', 'keras' or 'onnx', got "tensorflow"/],
    [{ name: '' }, /adapter\.name must be a non-empty string/],
    [{ unsupported: 'rank5' }, /adapter\.unsupported must be an array of feature names or an object of them by capability/],
    [{ unsupported: ['rank6'] }, /adapter\.unsupported\[0\]: unknown feature "rank6" \(did you mean rank2 or rank3 or rank4\?\); the features are rank2, /],
    [{ unsupported: ['noaffine'] }, /adapter\.unsupported\[0\]: unknown feature "noaffine" \(did you mean no_affine\?\)/],
    [{ unsupported: [5] }, /adapter\.unsupported\[0\]: expected a feature name, got 5/],
    [{ unsupported: { bnBackwards: ['rank5'] } }, /adapter\.unsupported\.bnBackwards is not a capability; did you mean adapter\.unsupported\.bnBackward\?/],
    [{ unsupported: { bnBackward: 'rank5' } }, /adapter\.unsupported\.bnBackward must be an array of feature names/],
    [{ unsupported: { lnForward: ['batch_of_2'] } }, /adapter\.unsupported\.lnForward\[0\]: no case of lnForward has batch_of_2 .*it occurs in the cases of bn/],
  ])('rejects %o, naming the field', (fields, message) => {
    rejects({ ...base, ...fields }, message);
  });

  it('accepts unsupported features as a list or by capability (\'*\': every one)', () => {
    for (const unsupported of [['rank5', 'no_affine'], { '*': ['rank5'], bnBackward: ['no_affine', 'eval_backward'] }]) {
      const a = { ...base, unsupported };
      expect(validateAdapter(a, 'my.mjs')).toBe(a);
    }
  });

  it('accepts valid conventions, null momentum included, and an adapter\'s own fields and helpers', () => {
    const a = { ...base, conventions: { eps: 1e-3, momentum: null, runningVar: 'biased' }, version: '2.1', sessionCount: () => 0, _state: {} };
    expect(validateAdapter(a, 'my.mjs')).toBe(a);
  });

  it('reads a class-based adapter through its prototype: methods are capabilities, a misspelt one is an error', () => {
    class Good { name = 'cls'; precision = 'float64'; layout = 'NCHW'; lnForward(a: { x: Float64Array }) { return { y: a.x }; } }
    class Typo { name = 'cls'; precision = 'float64'; layout = 'NCHW'; lnFowrard() { return {}; } }
    expect(validateAdapter(new Good(), 'cls.mjs')).toBeInstanceOf(Good);
    rejects(new Typo(), /adapter\.lnFowrard .*did you mean adapter\.lnForward\?/);
  });

  it('names the field whose getter throws', () => {
    const a = { ...base, get conventions(): never { throw new Error('getter exploded'); } };
    rejects(a, /^my\.mjs: reading adapter\.conventions threw Error: getter exploded$/);
  });

  it('holds a plain declaration (a worker or subprocess host\'s handshake) to the same rules, methods by name', () => {
    const decl = declarationOf(reference);
    expect(validateDeclaration(decl, 'worker')).toEqual(decl);
    expect(decl.methods).toEqual([...CAPABILITIES]);
    expect(() => validateDeclaration({ ...decl, conventions: { eps: 0 } }, 'sub.py')).toThrow(/^sub\.py: adapter\.conventions\.eps must be a finite number > 0/);
    expect(() => validateDeclaration({ ...decl, precison: 'float32' }, 'sub.py')).toThrow(/did you mean adapter\.precision\?/);
    expect(() => validateDeclaration({ ...decl, methods: ['lnFowrard'] }, 'sub.py')).toThrow(/adapter\.lnFowrard .*did you mean adapter\.lnForward\?/);
    expect(() => validateDeclaration({ ...decl, methods: 'lnForward' }, 'sub.py')).toThrow(/methods must be an array of the names/);
    expect(validateDeclaration({ ...decl, methods: ['lnForward', 'quantize8bit'] }, 'sub.py').methods).toEqual(['lnForward']);
    // the unsupported features cross the boundary with the rest of the declaration
    const limited = declarationOf({ ...reference, unsupported: { bnBackward: ['rank5'] } });
    expect(validateDeclaration(limited, 'worker').unsupported).toEqual({ bnBackward: ['rank5'] });
    expect(() => validateDeclaration({ ...decl, unsupported: ['rank7'] }, 'sub.py')).toThrow(/^sub\.py: adapter\.unsupported\[0\]: unknown feature "rank7"/);
  });

  it('is checked by runConformance for adapter objects a library caller passes', async () => {
    const bad = { ...reference, name: 'bad', conventions: { eps: 0 } } as Adapter;
    await expect(runConformance([{ adapter: bad, spec: 'bad' }], { quick: true, seed: 1, only: 'ln.forward' })).rejects.toThrow(AdapterShapeError);
  });

  it('holds for every adapter this repository ships: built-ins, mutants, correct variants, the README example', async () => {
    const all: [string, unknown][] = [['example', example], ...MUTANTS.map((m) => [m.name, m.adapter()] as [string, unknown]),
      ...CORRECT_VARIANTS.map((v) => [v.name, v.adapter()] as [string, unknown])];
    for (const name of Object.keys(BUILTIN_ADAPTERS)) all.push([name, (await BUILTIN_ADAPTERS[name]!()).default]);
    for (const [name, a] of all) expect(() => validateAdapter(a, name)).not.toThrow();
  });
});

describe('loading an adapter module', () => {
  it('exits 2 for conventions: \'keras\' (a string, formerly ignored) and for eps 0 (formerly 50 errors blamed on the adapter)', async () => {
    const keras = module('keras-string', `export default { name: 'k', precision: 'float32', layout: 'NHWC', conventions: 'keras', lnForward: ({ x }) => ({ y: x }) };\n`);
    const r = await run('check', keras, '--quick', '--seed', '1', '--only', 'ln.forward');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keras-string\.mjs: adapter\.conventions must be an object .*set adapter\.profile: 'keras'/);

    const eps0 = module('eps0', `export default { name: 'e', precision: 'float32', layout: 'NCHW', conventions: { eps: 0 }, lnForward: ({ x }) => ({ y: x }) };\n`);
    const e = await run('check', eps0, '--quick', '--seed', '1');
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/eps0\.mjs: adapter\.conventions\.eps must be a finite number > 0/);
    // no check ran: the report lists the adapter as failed to load, nothing else
    expect(e.stdout).toMatch(/eps0\.mjs: failed to load: .*conventions\.eps/);
    expect(e.stdout).toMatch(/^0 passed, 0 failed, 0 errors/m);
  });

  it('names the file and the property when a getter or the factory throws', async () => {
    const getter = module('getter', `export default { get name() { throw new Error('getter exploded'); }, precision: 'float32', layout: 'NCHW' };\n`);
    expect(await loadAdapter(getter).catch((e: Error) => e.message)).toBe(`${getter}: reading adapter.name threw Error: getter exploded`);
    const factory = module('factory', `export default async () => { throw new Error('factory failed'); };\n`);
    const r = await run('check', factory);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${factory}: the default export is a factory function, and calling it threw Error: factory failed`);
    const odd = module('odd-factory', `export default () => { throw Object.create(null); };\n`);
    expect((await run('check', odd)).stderr).toMatch(/odd-factory\.mjs: the default export is a factory function, and calling it threw a non-Error object \{\}/);
  });

});
