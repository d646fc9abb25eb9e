/**
 * The baseline verdict as JUnit XML, so a regression shows in CI's test view beside the checks themselves:
 * one <testsuite> "normcheck baseline", one <testcase> per adapter and check the baseline gates
 * (classname normcheck.baseline.<adapter>, name the check id), <failure> for each regression with its message
 * (which check, the two worst errors and the factor of growth).
 */
import junitModule, { type Builder } from 'junit-report-builder';
import { fmtRatio, type Baseline, type BaselineComparison } from './baseline.js';
import { writeReportFile, type ReportFile } from './report/write_file.js';

// CommonJS package: at run time the default import is the builder itself (see report/junit.ts).
const junit = junitModule as unknown as Builder;

/** `exitCode`: the run's final one, carried as the suite's property normcheck.exitCode (see report/junit.ts). */
export function buildBaselineJunit(c: BaselineComparison, baseline: Baseline, file: string, exitCode?: 0 | 1 | 2): string {
  const builder = junit.newBuilder().name('normcheck baseline');
  const suite = builder.testSuite().name(`normcheck baseline ${file} (growth ≤ ${c.growth.factor}× or ≤ +${c.growth.floor} of the bound)`);
  if (exitCode !== undefined) suite.property('normcheck.exitCode', String(exitCode));
  if (!c.comparable) {
    suite.testCase().className('normcheck.baseline').name('comparable').failure(`not comparable: ${c.mismatches.join(', ')}`, 'not comparable');
    return builder.build();
  }
  if (c.error) {
    suite.testCase().className('normcheck.baseline').name('compared').failure(c.error, 'compared nothing');
    return builder.build();
  }
  const regressions = new Map(c.regressions.map((r) => [`${r.adapter} ${r.check}`, r]));
  const notRun = new Set(c.notRun);
  for (const [adapter, a] of Object.entries(baseline.adapters)) {
    for (const [id, before] of Object.entries(a.checks)) {
      if (notRun.has(`${adapter} ${id}`)) continue;
      const t = suite.testCase().className(`normcheck.baseline.${adapter}`).name(id);
      const r = regressions.get(`${adapter} ${id}`);
      if (r) t.failure(r.message, r.kind);
      else t.standardOutput(`baseline: ${before.status}, worst ${fmtRatio(before.worstRatio)} of the bound`);
    }
  }
  return builder.build();
}

export function baselineJunitFile(c: BaselineComparison, baseline: Baseline, file: string, junitFile: string, exitCode?: 0 | 1 | 2): ReportFile {
  return { option: '--baseline-junit', file: junitFile, kind: 'junit', text: buildBaselineJunit(c, baseline, file, exitCode) };
}

export function writeBaselineJunit(c: BaselineComparison, baseline: Baseline, file: string, junitFile: string): void {
  writeReportFile('--baseline-junit', junitFile, buildBaselineJunit(c, baseline, file), 'junit');
}
