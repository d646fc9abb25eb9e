/**
 * The norm specs and what is built from them: every check belongs to one norm (or spans them), carries its
 * prefix and calls only its norm's capabilities; `--norm` selects a norm's checks and narrows hygiene to its
 * capabilities; `normcheck list` groups by norm; hygiene judges each capability on its own.
 */
import { describe, expect, it } from 'vitest';
import type { Adapter } from '../../conformance/adapter.js';
import reference from '../../conformance/adapters/reference.js';
import { CHECKS, selectChecks } from '../../conformance/catalog.js';
import { NORMS } from '../../conformance/norms/index.js';
import { runConformance } from '../../conformance/runner.js';
import { runCli } from '../../cli/program.js';

const seed = 20261127;

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), stderrIsTTY: false } };
}

describe('the catalog built from NORMS', () => {
  it('gives every check of a norm its id prefix (fixtures.<kind> aside) and only that norm\'s capabilities', () => {
    for (const n of NORMS) {
      const own = new Set([...n.hygiene.map((h) => h.capability), n.capabilities.forward, n.capabilities.backward]);
      for (const c of CHECKS.filter((k) => k.norm === n.id)) {
        expect(c.id.startsWith(`${n.id}.`) || c.id === n.fixtures?.id, c.id).toBe(true);
        // a relation between two norms (GroupNorm with G = C against InstanceNorm) may call the other one too
        const others = c.id.endsWith('_equivalence') ? NORMS.flatMap((m) => [m.capabilities.forward, m.capabilities.backward]) : [];
        for (const cap of c.needs) expect(own.has(cap) || others.includes(cap), `${c.id} needs ${cap}`).toBe(true);
      }
    }
    expect(new Set(CHECKS.map((c) => c.id)).size).toBe(CHECKS.length);
    expect(CHECKS.filter((c) => c.norm === null).map((c) => c.category)).toEqual(['hygiene', 'hygiene', 'hygiene']);
  });

  it('gives shift invariance and Σdx = 0 only to norms that subtract a mean, and scale invariance to all', () => {
    for (const n of NORMS) {
      const ids = CHECKS.filter((c) => c.norm === n.id).map((c) => c.id);
      expect(ids.includes(`${n.ids.forwardPrefix}.shift_invariance`), n.id).toBe(n.centred);
      expect(ids.includes(`${n.ids.backwardPrefix}.sum_dx_zero`), n.id).toBe(n.centred);
      expect(ids.includes(`${n.ids.forwardPrefix}.scale_invariance`), n.id).toBe(true);
      expect(ids.includes(`${n.ids.backwardPrefix}.dbias_sum_dy`), n.id).toBe(n.hasBias);
    }
  });

  it('selects by norm: the norm\'s checks and the hygiene checks, nothing of another norm', () => {
    const ln = selectChecks(undefined, ['ln']);
    expect(ln.length).toBe(CHECKS.filter((c) => c.norm === 'ln' || c.norm === null).length);
    expect(ln.every((c) => c.norm === 'ln' || c.norm === null)).toBe(true);
    expect(selectChecks('bn.train', ['ln'])).toEqual([]);
  });
});

describe('--norm', () => {
  /** BatchNorm's training forward writes into its input; LayerNorm is the reference's. */
  const bnMutates: Adapter = { ...bnMutatesFactory(), name: 'bn-mutates' };

  it('judges only the selected norm\'s capabilities in the hygiene checks', async () => {
    const only = 'hygiene.no_input_mutation';
    const ln = await runConformance([{ adapter: bnMutates, spec: 'bn-mutates' }], { quick: true, seed, only, norms: ['ln'] });
    const bn = await runConformance([{ adapter: bnMutates, spec: 'bn-mutates' }], { quick: true, seed, only, norms: ['bn'] });
    expect(ln.adapters[0]!.checks[0]!.status).toBe('pass');
    expect(bn.adapters[0]!.checks[0]!).toMatchObject({ status: 'fail' });
    expect(bn.adapters[0]!.checks[0]!.message).toContain('bnTrainForward argument x after the call');
    // a replay of a norm-filtered run names the filter (the hygiene cases depend on it)
    expect(bn.adapters[0]!.checks[0]!.replay).toContain('--norm bn');
  });

  it('runs only the selected norm\'s checks from the command line', async () => {
    const { out, io } = capture();
    expect(await runCli(['check', 'reference', '--norm', 'ln', '--quick', '--seed', '3', '--no-progress'], io)).toBe(0);
    const rows = [...out.stdout.matchAll(/^([a-z]+\.[\w.]+) +(\S+)$/gm)].map((m) => m[1]!);
    expect(rows.length).toBe(selectChecks(undefined, ['ln']).length);
    expect(rows.every((id) => id.startsWith('ln.') || id.startsWith('hygiene.') || id === 'fixtures.layernorm')).toBe(true);
  });

  it('is a usage error for an unknown norm, naming the known ones', async () => {
    const { out, io } = capture();
    expect(await runCli(['check', 'reference', '--norm', 'bn,xx', '--quick'], io)).toBe(2);
    expect(out.stderr).toMatch(/--norm.*bn, ln/s);
  });
});

describe('normcheck list', () => {
  it('prints one table per norm, then the checks that span norms, every check once', async () => {
    const { out, io } = capture();
    expect(await runCli(['list'], io)).toBe(0);
    const titles = [...out.stdout.matchAll(/^(.+) \((\w+)\) — .*: (\d+) checks?$/gm)];
    expect(titles.map((m) => m[2])).toEqual(NORMS.map((n) => n.id));
    for (const m of titles) expect(Number(m[3])).toBe(CHECKS.filter((c) => c.norm === m[2]).length);
    expect(out.stdout).toMatch(/^every norm .*: 3 checks$/m);
    for (const c of CHECKS) expect(out.stdout.split(`│ ${c.id} `).length - 1, c.id).toBe(1);
  });

  it('--norm prints only the tables of those norms, then the checks that span norms, and counts what it listed', async () => {
    const { out, io } = capture();
    expect(await runCli(['list', '--norm', 'rms,gn'], io)).toBe(0);
    // catalog order, whatever the order of the ids
    expect([...out.stdout.matchAll(/^.+ \((\w+)\) — .*: \d+ checks?$/gm)].map((m) => m[1])).toEqual(['gn', 'rms']);
    const listed = CHECKS.filter((c) => c.norm === 'gn' || c.norm === 'rms' || c.norm === null);
    for (const c of CHECKS) expect(out.stdout.includes(`│ ${c.id} `), c.id).toBe(listed.includes(c));
    expect(out.stdout).toContain(`${listed.length} of ${CHECKS.length} checks (--norm rms,gn)`);
  });

  it('--norm with an unknown id is a usage error naming the known ones', async () => {
    const { out, io } = capture();
    expect(await runCli(['list', '--norm', 'ln,layernorm'], io)).toBe(2);
    expect(out.stderr).toMatch(/--norm.*bn, ln, gn, in, rms.*"ln,layernorm"/s);
  });
});

describe('hygiene judges each capability on its own', () => {
  /** bnBackward is not implemented (it throws); bnTrainForward writes into its input. */
  const twoDefects: Adapter = {
    ...bnMutatesFactory(), name: 'two-defects',
    bnBackward() {
      throw new Error('not implemented');
    },
  };

  it('a capability that throws does not hide another one that mutates its input: fail, naming both', async () => {
    const r = await runConformance([{ adapter: twoDefects, spec: 'two-defects' }], { quick: true, seed, only: 'hygiene.no_input_mutation' });
    const c = r.adapters[0]!.checks[0]!;
    expect(c.status).toBe('fail');
    expect(c.message).toContain('bnTrainForward argument x after the call');
    expect(c.message).toContain('bnBackward threw');
  });

  it('a capability that throws is an error, and every other one is still judged on every case', async () => {
    const onlyThrows: Adapter = { ...reference, name: 'backward-throws', bnBackward: twoDefects.bnBackward! };
    const r = await runConformance([{ adapter: onlyThrows, spec: 'backward-throws' }], { quick: true, seed, only: 'hygiene.deterministic' });
    const c = r.adapters[0]!.checks[0]!;
    expect(c.status).toBe('error');
    expect(c.message).toMatch(/bnBackward threw and was not judged further: .*not implemented; judged without it: bnTrainForward, bnEvalForward, lnForward, lnBackward/);
    expect(c.runs).toBeGreaterThan(1);
  });

  it('an adapter with no capability is "not provided", decided from the typed result of applies()', async () => {
    const none: Adapter = { name: 'none', precision: 'float64', layout: 'NCHW' };
    const r = await runConformance([{ adapter: none, spec: 'none' }], { quick: true, seed, only: 'hygiene' });
    expect(r.adapters[0]!.checks.map((c) => c.status)).toEqual(['not provided', 'not provided', 'not provided']);
  });
});

/** The reference, except that BatchNorm's training forward writes into its input after computing from it. */
function bnMutatesFactory(): Adapter {
  return {
    ...reference,
    bnTrainForward(args) {
      const r = reference.bnTrainForward!(args) as ReturnType<NonNullable<Adapter['bnTrainForward']>>;
      args.x[0] = 12345;
      return r;
    },
  };
}
