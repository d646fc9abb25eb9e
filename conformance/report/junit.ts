/**
 * JUnit XML (junit-report-builder), the format CI systems display: one <testsuite> per adapter, one
 * <testcase> per check (classname normcheck.<adapter>.<category>, name the check id). fail → <failure>,
 * error → <error>, skipped / not provided / expected failure → <skipped/>; the message carries the worst
 * error, the counterexample and the replay command. An adapter that could not be loaded is a testsuite of its
 * own with one <error> testcase "load". The root is <testsuites name="normcheck"> (how write_file.ts tells
 * our report from another file), and every testsuite carries the run's final exit code as the property
 * normcheck.exitCode, so the XML agrees with the process and the JSON report.
 */
import junitModule, { type Builder } from 'junit-report-builder';
import { fmtRatio } from '../compare.js';
import type { CheckResult, RunReport } from '../runner.js';
import { excludingPhrase, exclusionList, unsupportedLine } from './exclusions.js';
import { describeAdapterGrade, describeGrade, gradeCell } from '../accuracy/grade.js';
import { writeReportFile, type ReportFile } from './write_file.js';

function body(c: CheckResult): string {
  return [
    c.message, excludingPhrase(c.excluded), ...c.details,
    c.worst ? `worst: ${c.worst.quantity} at ${fmtRatio(c.worst.ratio)} of its bound` : '',
    c.cases ? `cases: ${c.cases.pass} pass, ${c.cases.inconclusive} inconclusive, ${c.cases.fail} fail` : '',
    c.grade ? `accuracy: ${describeGrade(c.grade)}` : '',
    c.counterexample ? `counterexample: ${c.counterexample}` : '',
    c.seed !== null ? `seed ${c.seed}${c.path ? ` path "${c.path}"` : ''}` : '',
    c.replay ? `replay: ${c.replay}` : '',
  ].filter(Boolean).join('\n');
}

// The package is CommonJS (`module.exports = builder`); under NodeNext its types describe the default
// export as the module namespace, while at run time the default import is the builder itself.
const junit = junitModule as unknown as Builder;

/** `exitCode`: the run's final one (checks, load failures and the baseline gate; default the checks' own). */
export function buildJunit(report: RunReport, exitCode: 0 | 1 | 2 = report.exitCode): string {
  const builder = junit.newBuilder().name('normcheck');
  for (const f of report.loadFailures) {
    const suite = builder.testSuite().name(`normcheck ${f.spec} (failed to load)`).property('normcheck.exitCode', String(exitCode));
    const t = suite.testCase().className(`normcheck.${f.spec}`).name('load');
    if (f.required) t.error(f.message, 'load error');
    else t.skipped().standardOutput(`failed to load (a default built-in, not named): ${f.message}`);
  }
  for (const a of report.adapters) {
    const suite = builder.testSuite().name(`normcheck ${a.name} (${a.precision} ${a.layout} ${a.profile})`).property('normcheck.exitCode', String(exitCode));
    // what the verdicts leave out: the adapter's declaration and the run's --without
    const unsupported = a.unsupported ? unsupportedLine(a.unsupported) : '';
    if (unsupported) suite.property('normcheck.unsupported', unsupported);
    if (a.grade) suite.property('normcheck.grade', describeAdapterGrade(a.grade));
    if (report.selection?.without?.length) suite.property('normcheck.without', report.selection.without.join(','));
    if (a.state !== 'ran') {
      const t = suite.testCase().className(`normcheck.${a.name}`).name('adapter');
      if (a.state === 'unavailable' || a.state === 'not installed') t.skipped().standardOutput(a.message ?? '');
      else t.error(a.message ?? 'setup error');
      continue;
    }
    for (const c of a.checks) {
      const t = suite.testCase().className(`normcheck.${a.name}.${c.category}`).name(c.id).time(c.durationMs / 1000);
      if (c.graded != null) t.property('normcheck.graded', String(c.graded));
      if (c.excluded?.length) {
        t.property('normcheck.excluded', exclusionList(c.excluded));
        // the verdict in words, as the table's footnote says it: "pass, excluding rank-5 and non-affine cases (…)"
        if (c.status !== 'not applicable') t.property('normcheck.verdict', `${c.status}, ${excludingPhrase(c.excluded)}`);
      }
      // the three outcomes and the grade: a robust check is a passing testcase that says so
      t.property('normcheck.status', c.status);
      if (c.cases) t.property('normcheck.cases', `pass ${c.cases.pass}, inconclusive ${c.cases.inconclusive}, fail ${c.cases.fail}`);
      if (c.grade) t.property('normcheck.grade', gradeCell(c.grade));
      if (c.outcome === 'expected failure') t.skipped().standardOutput(`expected failure: ${c.expectedReason}\n${body(c)}`);
      else if (c.status === 'fail') t.failure(c.message, 'fail').standardOutput(body(c));
      else if (c.status === 'error') t.error(c.message, 'error', body(c));
      else if (c.status === 'skipped' || c.status === 'not provided' || c.status === 'not applicable') t.skipped().standardOutput(`${c.status}: ${c.message}`);
      else t.standardOutput(body(c));
    }
  }
  return builder.build();
}

export function junitReportFile(report: RunReport, file: string, exitCode: 0 | 1 | 2 = report.exitCode): ReportFile {
  return { option: '--junit', file, kind: 'junit', text: buildJunit(report, exitCode) };
}

export function writeJunit(report: RunReport, file: string, exitCode: 0 | 1 | 2 = report.exitCode): void {
  writeReportFile('--junit', file, buildJunit(report, exitCode), 'junit');
}
