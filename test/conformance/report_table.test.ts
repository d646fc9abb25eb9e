/**
 * The console report fits a 120-column terminal however many adapters ran: the check × adapter matrices
 * pack the adapters side by side as the width allows, every (adapter, check) cell appears once, and the
 * expected failures are grouped by reason rather than listed one line per pair.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import reference from '../../conformance/adapters/reference.js';
import { BUILTIN_ADAPTERS } from '../../conformance/adapters/index.js';
import { formatReport, WIDTH } from '../../conformance/report/table.js';
import { runConformance, type AdapterReport, type CheckResult, type RunReport } from '../../conformance/runner.js';

let base: RunReport;
beforeAll(async () => {
  base = await runConformance([{ adapter: reference, spec: 'reference' }], { quick: true, seed: 5, only: 'bn.train,ln.forward.odd_sizes' });
});

/** The reference's report under every built-in's name (16 columns), with a mix of outcomes. */
function wide(): RunReport {
  const names = Object.keys(BUILTIN_ADAPTERS);
  const adapters: AdapterReport[] = names.map((name, a) => ({
    ...base.adapters[0]!, name,
    checks: base.adapters[0]!.checks.map((c, k): CheckResult => {
      if (a % 3 === 1 && k % 4 === 0) return { ...c, status: 'error', outcome: 'expected failure', expectedReason: `reason ${a % 2}: a long sentence that explains why this implementation is expected to fail here, with a reference to docs/divergences.md` };
      if (a % 5 === 2 && k === 1) return { ...c, status: 'fail', outcome: 'failed', worst: { ...c.worst!, ratio: 123.456 } };
      if (a % 4 === 3 && k === 2) return { ...c, excluded: [{ feature: 'rank5', source: 'adapter', cases: 2 }] };
      if (a === names.length - 1) return { ...c, status: 'not provided', worst: null };
      return c;
    }),
  }));
  return { ...base, adapters };
}

describe('the console report', () => {
  it(`keeps every line within ${WIDTH} columns with all ${Object.keys(BUILTIN_ADAPTERS).length} built-in adapters`, () => {
    const text = formatReport(wide());
    // but the replay commands (copied whole) and the summary line (one line that CI logs grep)
    const long = text.split('\n').filter((l) => [...l].length > WIDTH && !/^\s+replay: /.test(l) && !/^\d+ passed, /.test(l));
    expect(long).toEqual([]);
  });

  it('splits the adapters between matrices, each with its header, every check a row of each that provides it', () => {
    const report = wide();
    const text = formatReport(report);
    const matrices = text.split('\n').filter((l) => /^check /.test(l)).length;
    expect(matrices).toBeGreaterThan(1);
    // the cells of a check's rows together: one per adapter of the matrices that print it
    const cells = (id: string) => text.split('\n').filter((l) => l.startsWith(`${id} `)).reduce((n, l) => n + l.trim().split(/ +/).length - 1, 0);
    for (const id of report.adapters[0]!.checks.map((c) => c.id)) {
      expect(cells(id), id).toBeGreaterThanOrEqual(report.adapters.length - 1);
      expect(cells(id), id).toBeLessThanOrEqual(report.adapters.length);
    }
  });

  it('prints a failure\'s ratio in its cell, marks an exclusion with * and explains it under the matrix', () => {
    const text = formatReport(wide());
    expect(text).toMatch(/ F123\.46/);
    expect(text).toMatch(/\S\* /);
    expect(text).toMatch(/^\* .*: passes excluding rank-5\s+cases\s+\(declared\s+unsupported\):\s+bn\.train\.running_var$/m);
  });

  it('groups expected failures by reason: each reason printed once, the adapters sharing it on one line', () => {
    const text = formatReport(wide());
    for (const r of ['reason 0', 'reason 1']) expect(text.split(`  ${r}: a long sentence`).length - 1, r).toBe(1);
    expect(text).not.toMatch(/ · bn\.train\.forward: reason/);
  });
});
