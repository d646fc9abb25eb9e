/**
 * Feature tags and declarations (features.ts, domain.ts): every case and fixture carries the tags of its
 * settings, all from the one list; the quick profile draws every feature its norms have; an adapter that
 * declares a feature unsupported is never given a case with it (the generators draw supported cases
 * instead), checks whose every case has it are 'not applicable', and each check says what it left out.
 */
import { describe, expect, it } from 'vitest';
import type { Adapter, BatchNormBackwardArgs, BatchNormTrainArgs, Unsupported } from '../../conformance/adapter.js';
import reference from '../../conformance/adapters/reference.js';
import { CHECKS } from '../../conformance/catalog.js';
import type { Check } from '../../conformance/check.js';
import { domainFor, fitGeometry, fixtureTags, FULL_DOMAIN, unsupportedOf, type Domain } from '../../conformance/domain.js';
import { FEATURE_NAMES, FEATURES, offsetTags, parseFeatureList, type Feature } from '../../conformance/features.js';
import { loadFixtures } from '../../conformance/fixture_reader.js';
import { buildJunit } from '../../conformance/report/junit.js';
import { formatReport } from '../../conformance/report/table.js';
import { InProcessHost } from '../../conformance/hosts/in_process.js';
import type { CheckContext } from '../../conformance/invoke.js';
import { NORMS } from '../../conformance/norms/index.js';
import { BATCHNORM } from '../../conformance/norms/batchnorm.js';
import { LAYERNORM } from '../../conformance/norms/layernorm.js';
import { conventionsFor } from '../../conformance/profiles.js';
import { runConformance } from '../../conformance/runner.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261127);

/** A check's context for drawing cases (sample): the adapter in this process, nothing called. */
function contextFor(adapter: Adapter, domain: Domain, quick = true): CheckContext {
  const host = new InProcessHost(adapter, adapter.name);
  return {
    host, capabilities: new Set(host.meta.capabilities), precision: adapter.precision, layout: adapter.layout, profile: adapter.profile ?? 'pytorch',
    conventions: conventionsFor(adapter), quick, numRuns: 5, seed, timeoutMs: 10_000, checkTimeoutMs: 300_000, ledger: { fault: null }, origin: null, domain,
  };
}

const propertyChecks = CHECKS.filter((c) => c.sample && c.category !== 'fixtures');
const normIds = new Set<string>(NORMS.map((n) => n.id));

describe('feature tags', () => {
  it('are all in the one list, and the quick profile draws every feature of the catalog\'s norms (cases or fixtures)', () => {
    const seen = new Set<string>();
    for (const check of propertyChecks) for (const c of check.sample!(contextFor(reference, FULL_DOMAIN), 40)) for (const t of c.tags ?? []) seen.add(t);
    for (const n of NORMS) if (n.fixtures) for (const fx of loadFixtures(n.fixtures.kind)) for (const t of fixtureTags(fx)) seen.add(t);
    expect([...seen].filter((t) => !FEATURE_NAMES.includes(t as Feature))).toEqual([]);
    const expected = FEATURE_NAMES.filter((f) => FEATURES[f].norms.some((n) => normIds.has(n)));
    expect(expected.filter((f) => !seen.has(f))).toEqual([]);
  });

  it('name the offsets as thresholds: a case offset by 1e5 times its spread has offset_1e2 … offset_1e5', () => {
    expect(offsetTags(1e5)).toEqual(['offset_1e2', 'offset_1e3', 'offset_1e4', 'offset_1e5']);
    expect(offsetTags(99)).toEqual([]);
  });

  it('of fixtures come from their settings', () => {
    const bn = new Map(loadFixtures('batchnorm').map((fx) => [fx.name, fixtureTags(fx)]));
    expect(bn.get('bn3d')).toEqual(['rank5']);
    expect(bn.get('bn2d_noaffine')).toEqual(['rank4', 'no_affine']);
    expect(bn.get('bn2d_momentum_none')).toEqual(['rank4', 'momentum_none']);
    expect(bn.get('bn2d_no_running_stats')).toEqual(['rank4', 'no_running_stats']);
    expect(bn.get('bn2d_batch2_offset1e6')).toEqual(['rank4', 'offset_1e2', 'offset_1e3', 'offset_1e4', 'offset_1e5', 'offset_1e6']);
    expect(bn.get('bn1d_batch2')).toEqual(['rank2', 'batch_of_2']); // (2, 5): N·spatial = 2
    const ln = new Map(loadFixtures('layernorm').map((fx) => [fx.name, fixtureTags(fx)]));
    expect(ln.get('ln_last2_noaffine')).toEqual(['rank3', 'no_affine', 'multi_axis'].sort((a, b) => FEATURE_NAMES.indexOf(a as Feature) - FEATURE_NAMES.indexOf(b as Feature)));
  });

  it('on the command line are checked against the list, with the closest names', () => {
    expect(parseFeatureList('rank5, no_affine')).toEqual(['rank5', 'no_affine']);
    expect(() => parseFeatureList('rank6')).toThrow(/unknown feature "rank6" \(did you mean rank2 or rank3 or rank4\?|unknown feature "rank6" \(did you mean rank/);
    expect(() => parseFeatureList('noaffine')).toThrow(/did you mean no_affine\?.*the features are rank2, rank3/);
    expect(() => parseFeatureList(',')).toThrow(/expected comma-separated feature names/);
  });
});

describe('projecting a drawn geometry onto the supported features', () => {
  const ex = (...fs: Feature[]) => new Set<Feature>(fs);
  it('merges spatial axes for a rank limit, keeping N, C and the values per channel', () => {
    expect(fitGeometry(BATCHNORM, { shape: [2, 3, 4, 4, 4] }, ex('rank5'))).toEqual({ geometry: { shape: [2, 3, 4, 16] }, removed: ['rank5'] });
  });
  it('pads rank-2 input to rank 4 for a 4-D-only adapter, with axes of 2 when unit axes are excluded too', () => {
    expect(fitGeometry(BATCHNORM, { shape: [6, 3] }, ex('rank2', 'rank3', 'rank5'))!.geometry).toEqual({ shape: [6, 3, 1, 1] });
    expect(fitGeometry(BATCHNORM, { shape: [6, 3] }, ex('rank2', 'rank3', 'rank5', 'unit_spatial'))!.geometry).toEqual({ shape: [6, 3, 2, 2] });
  });
  it('folds the spatial axes into the batch for a BatchNorm1d-only adapter (the same channels)', () => {
    expect(fitGeometry(BATCHNORM, { shape: [2, 3, 4, 5] }, ex('rank3', 'rank4', 'rank5'))!.geometry).toEqual({ shape: [40, 3] });
  });
  it('drops unit axes, adds a sample to a batch of two, merges normalised axes', () => {
    expect(fitGeometry(BATCHNORM, { shape: [2, 3, 1, 5] }, ex('unit_spatial'))!.geometry).toEqual({ shape: [2, 3, 5] });
    expect(fitGeometry(BATCHNORM, { shape: [2, 3] }, ex('batch_of_2'))!.geometry).toEqual({ shape: [3, 3] });
    expect(fitGeometry(LAYERNORM, { shape: [2, 3, 4], normalizedShape: [3, 4] }, ex('multi_axis'))!.geometry).toEqual({ shape: [2, 12], normalizedShape: [12] });
  });
  it('leaves a supported geometry alone (the same object)', () => {
    const g = { shape: [2, 3, 4] };
    expect(fitGeometry(BATCHNORM, g, ex('rank5'))!.geometry).toBe(g);
  });
});

/** The domains an adapter may declare, and which checks they leave with nothing to grade. */
const DOMAINS: Unsupported[] = [
  ['rank5'], ['rank2', 'rank3', 'rank5'], ['rank3', 'rank4', 'rank5'], ['rank4'], ['no_affine'], ['unit_spatial'], ['batch_of_2'], ['multi_axis'],
  ['rank5', 'no_affine', 'unit_spatial', 'batch_of_2', 'multi_axis'],
];

describe('an adapter that declares features unsupported', () => {
  it.each(DOMAINS.map((d) => [JSON.stringify(d), d] as const))('is never given a case with them: %s (every check, sampled)', (_name, unsupported) => {
    const u = unsupportedOf({ unsupported });
    const bad: string[] = [];
    for (const check of propertyChecks) {
      const domain = domainFor(u, check.needs);
      if ((check.features ?? []).some((f) => domain.excluded.has(f))) continue; // not applicable: not drawn at all
      const cases = check.sample!(contextFor(reference, domain), 25);
      // a norm that has no case in the domain at all (InstanceNorm at rank 2: an instance needs a spatial
      // extent) marks every case unsupported: the run then finds the check not applicable, nothing is called
      if (cases.every((c) => c.unsupported?.length)) continue;
      for (const c of cases) {
        const hit = (c.tags ?? []).filter((t) => domain.excluded.has(t));
        if (hit.length) bad.push(`${check.id}: ${c.label} has ${hit.join(', ')}${c.unsupported ? ' (not graded)' : ''}`);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('draws the same data as an adapter that supports everything where no excluded feature is involved', () => {
    const check = CHECKS.find((c) => c.id === 'bn.train.offset_1e4')!;
    const full = check.sample!(contextFor(reference, FULL_DOMAIN), 10).map((c) => c.label);
    const limited = check.sample!(contextFor(reference, domainFor(unsupportedOf({ unsupported: ['eval_backward'] }), check.needs)), 10).map((c) => c.label);
    expect(limited).toEqual(full);
  });
});

/** The reference, throwing wherever a limited implementation would: rank 5 and no affine parameters in the backward. */
function gradientUpToRank4(): Adapter {
  return {
    ...reference, name: 'grad-rank4',
    unsupported: { bnBackward: ['rank5', 'no_affine'] },
    bnBackward(a: BatchNormBackwardArgs) {
      if (a.shape.length === 5) throw new Error('rank 5 gradient not implemented');
      if (!a.weight || !a.bias) throw new Error('scale and offset required');
      return reference.bnBackward!(a);
    },
  };
}

/** A third-party BatchNorm that takes 4-D NCHW input only and has no eval-mode backward. */
function fourDOnly(): Adapter {
  const only4 = (shape: readonly number[]) => {
    if (shape.length !== 4) throw new Error(`only 4-D input, got rank ${shape.length}`);
  };
  return {
    name: 'four-d', precision: 'float64', layout: 'NCHW', profile: 'pytorch',
    unsupported: { '*': ['rank2', 'rank3', 'rank5'], bnBackward: ['eval_backward'] },
    bnTrainForward: (a: BatchNormTrainArgs) => (only4(a.shape), reference.bnTrainForward!(a)),
    bnEvalForward: (a) => (only4(a.shape), reference.bnEvalForward!(a)),
    bnBackward(a) {
      only4(a.shape);
      if (!a.training) throw new Error('training-mode backward only');
      return reference.bnBackward!(a);
    },
  } as Adapter;
}

describe('the runner, on adapters with declared limits', () => {
  it('grades a backward that throws on rank 5 and without affine parameters on everything else, and says what it left out', async () => {
    const report = await runConformance([{ adapter: gradientUpToRank4(), spec: 'grad-rank4' }], { quick: true, seed, only: 'bn.backward' });
    const checks = report.adapters[0]!.checks;
    expect(checks.filter((c) => c.status !== 'pass' && c.status !== 'robust' && c.status !== 'not applicable').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    const train = checks.find((c) => c.id === 'bn.backward.train')!;
    expect(train.graded).toBe(train.runs);
    expect(train.excluded!.map((e) => e.feature)).toEqual(['rank5', 'no_affine']);
    expect(train.excluded!.every((e) => e.source === 'adapter')).toBe(true);
    // every case of the 'both' backward is judged with its affine parameters only: all moved off no_affine
    expect(train.excluded!.find((e) => e.feature === 'no_affine')!.cases).toBe(train.runs);
    expect(report.adapters[0]!.unsupported).toEqual({ all: [], byCapability: { bnBackward: ['rank5', 'no_affine'] } });
    // every report says it: the JSON above, the table's footnote, JUnit's properties
    expect(formatReport(report)).toMatch(/^\* grad-rank4: passes excluding rank-5 and non-affine cases \(declared unsupported\): /m);
    const junit = buildJunit(report);
    expect(junit).toMatch(/<property name="normcheck\.unsupported" value="bnBackward: rank5, no_affine"\/>/);
    expect(junit).toMatch(/<property name="normcheck\.verdict" value="pass, excluding rank-5 and non-affine cases \(declared unsupported\)"\/>/);
  });

  it('reports a check whose every case has an excluded feature as not applicable, not passed', async () => {
    const adapter = { ...reference, name: 'no-offsets', unsupported: ['offset_1e4'] } as Adapter;
    const report = await runConformance([{ adapter, spec: 'no-offsets' }], { quick: true, seed, only: 'bn.train.offset_*' });
    const status = Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c.status]));
    expect(status).toEqual({
      'bn.train.offset_1e2': 'pass', 'bn.train.offset_1e3': 'pass', 'bn.train.offset_1e4': 'not applicable',
      'bn.train.offset_1e5': 'not applicable', 'bn.train.offset_1e6': 'not applicable',
    });
    const na = report.adapters[0]!.checks.find((c) => c.id === 'bn.train.offset_1e5')!;
    expect(na.message).toMatch(/every case has offset_1e4, which the adapter declares unsupported/);
    expect(report.summary).toMatchObject({ passed: 2, notApplicable: 3 });
    expect(report.exitCode).toBe(0);
  });

  it('judges a 4-D-only BatchNorm without eval backward on all it supports, PyTorch fixtures included', async () => {
    const report = await runConformance([{ adapter: fourDOnly(), spec: 'four-d' }], { quick: true, seed, norms: ['bn'] });
    const checks = report.adapters[0]!.checks;
    expect(checks.filter((c) => c.status === 'fail' || c.status === 'error').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(checks.find((c) => c.id === 'bn.backward.eval')!.status).toBe('not applicable');
    const fx = checks.find((c) => c.id === 'fixtures.batchnorm')!;
    const rank4 = loadFixtures('batchnorm').filter((f) => (f.settings.shape as number[]).length === 4).length;
    expect(fx.status).toBe('pass');
    expect(fx.graded).toBe(rank4);
    expect(fx.excluded!.map((e) => e.feature)).toEqual(['rank2', 'rank3', 'rank5', 'eval_backward']);
    expect(report.exitCode).toBe(0);
  });

  it('passes --without on to every adapter, with the source of each exclusion', async () => {
    const report = await runConformance([{ adapter: reference, spec: 'reference' }], { quick: true, seed, only: 'bn.train.forward,bn.train.unit_spatial', without: ['unit_spatial'] });
    const [fwd, unit] = report.adapters[0]!.checks;
    expect(fwd!.status).toBe('pass');
    expect(fwd!.excluded!.map((e) => [e.feature, e.source])).toEqual([['unit_spatial', 'without']]);
    expect(unit!.status).toBe('not applicable');
    expect(unit!.message).toMatch(/which --without leaves out \(unit_spatial\)/);
    expect(fwd!.replay).toMatch(/--without unit_spatial/);
    expect(report.selection.without).toEqual(['unit_spatial']);
  });
});

describe('BatchNorm without running statistics (track_running_stats=False)', () => {
  const run = (adapter: Adapter, only: string) => runConformance([{ adapter, spec: adapter.name }], { quick: true, seed, only });
  it('is expressible: null buffers in, none back, judged against the batch statistics', async () => {
    const r = await run(reference, 'bn.train.no_running_stats,fixtures.batchnorm');
    expect(r.adapters[0]!.checks.map((c) => c.status)).toEqual(['pass', 'pass']);
  });
  it('fails an adapter that returns running buffers although it was given none', async () => {
    const keeps: Adapter = {
      ...reference, name: 'keeps-state',
      bnTrainForward: (a) => {
        const C = a.shape[1]!;
        return { ...reference.bnTrainForward!({ ...a, runningMean: a.runningMean ?? new Float64Array(C), runningVar: a.runningVar ?? new Float64Array(C).fill(1) }) as object } as never;
      },
    };
    const c = (await run(keeps, 'bn.train.no_running_stats')).adapters[0]!.checks[0]!;
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/was given no running buffers \(track_running_stats=False\) but returned runningMean, runningVar, numBatchesTracked/);
  });
  it('checks a returned numBatchesTracked: the count after the step', async () => {
    const offByOne: Adapter = {
      ...reference, name: 'off-by-one',
      bnTrainForward: (a) => {
        const r = reference.bnTrainForward!(a) as { numBatchesTracked?: number | null };
        return { ...r, numBatchesTracked: r.numBatchesTracked == null ? r.numBatchesTracked : a.numBatchesTracked } as never;
      },
    };
    const r = await run(offByOne, 'bn.train.running_mean,bn.train.no_running_stats');
    const [mean, untracked] = r.adapters[0]!.checks;
    expect(mean!.status).toBe('fail');
    expect(mean!.details.join('\n')).toMatch(/numBatchesTracked after step 1\[0\]: got 0\.0+, expected 1\.0+/);
    expect(untracked!.status).toBe('pass');
  });
});

describe('the catalog', () => {
  it('declares on every check the features each of its cases has (sampled): a run excluding one finds it not applicable', () => {
    const missing: string[] = [];
    for (const check of propertyChecks as Check[]) {
      const cases = check.sample!(contextFor(reference, FULL_DOMAIN), 30);
      const always = FEATURE_NAMES.filter((f) => !f.startsWith('rank') && cases.every((c) => c.tags?.includes(f)));
      const undeclared = always.filter((f) => !(check.features ?? []).includes(f));
      if (undeclared.length) missing.push(`${check.id}: ${undeclared.join(', ')}`);
    }
    expect(missing).toEqual([]);
  });
});
