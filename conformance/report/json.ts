/**
 * The JSON report: the runner's RunReport as is. Schema `normcheck-report/1`:
 *
 * {
 *   "schema": "normcheck-report/1",
 *   "startedAt": ISO date, "durationMs": number, "seed": number, "quick": boolean, "runs": number,
 *   "tolerance": "worst-case" | "strict",   --tolerance: the tier of the differential bounds (accuracy/probabilistic.ts)
 *   "profileOverride": "pytorch" | "keras" | "onnx" | null,
 *   "summary": { "passed", "robust", "failed", "errors", "skipped", "notProvided", "notApplicable", "expectedFailures",
 *                "unexpectedPasses", "unavailableAdapters", "notInstalledAdapters", "loadErrors": number },
 *   "exitCode": 0 | 1 | 2,      the run's final exit code: checks, adapters that failed to load, and the baseline gate
 *   "loadFailures": [ { "spec": string, "message": string, "required": boolean } ],
 *                               adapters that could not be loaded (spec as given; required: named on the command line,
 *                               counted in summary.loadErrors and exit code 2; a default built-in that fails is listed, not counted)
 *   "selection": {              what the run was asked to do (normcheck merge checks shards against it)
 *     "checks": string[],       the selected check ids, catalog order
 *     "adapters": string[],     every adapter's spec, run order (one without units in this shard is absent below)
 *     "required": string[],     adapters named on the command line
 *     "norms": string[] | null, --norm
 *     "without": string[],      --without: features left out of every adapter's cases
 *     "shard": { "index", "count": number } | null      --shard i/n; null for an unsharded or merged run
 *   },
 *   "baseline": null | {        with --baseline FILE: the gate's verdict (null without --baseline)
 *     "file": string, "comparable": boolean, "mismatches": string[], "ok": boolean, "compared": number,
 *     "error": string | null,   "compared nothing: …" when no check of the baseline could be compared (exit 2)
 *     "growth": { "factor", "floor": number },
 *     "regressions": [ { "adapter", "check": string, "kind": "now failing" | "no longer runs" | "error grew",
 *                        "growth": now/before | null, "before": { "status", "worstRatio", "quantity" },
 *                        "now": { "status", "worstRatio", "quantity" }, "message": string } ],
 *     "fixed", "added", "notRun": string[]
 *   },
 *   "adapters": [ {
 *     "name", "description", "precision", "layout", "profile", "spec": string,
 *     "conventions": { "momentum": number | null, "runningVar": "unbiased" | "biased", "eps": number },
 *     "capabilities": string[], "state": "ran" | "not installed" | "unavailable" | "setup error", "message": string | null,
 *     "unsupported": { "all": string[], "byCapability": { capability: string[] } },   the features it declares unsupported
 *     "checks": [ {
 *       "id", "category", "description": string,
 *       "status": "pass" | "robust" | "fail" | "error" | "skipped" | "not provided" | "not applicable",
 *       "outcome": "ok" | "failed" | "expected failure" | "unexpected pass" | "expected failure not reproduced",
 *       "expectedReason": string | null,   (a listed check that passed is "unexpected pass" in a full run and
 *                                            "expected failure not reproduced" with --quick; summary.unexpectedPasses counts both)
 *       "message": string,
 *       "worst": { "ratio": error/bound, "ulps", "error", "bound": number, "quantity": string } | null,
 *       "runs": number, "seed": number | null, "path": string | null,
 *       "counterexample": string | null, "details": string[], "replay": string | null, "durationMs": number,
 *       "graded": number | null,           cases graded (runs before a failure; fixtures posed); null: the check did not run
 *       "excluded": [ { "feature": string, "source": "adapter" | "without" | "expectation", "cases": number } ]
 *                                           features left out of its cases: drawn cases moved off each (0: it can
 *                                           draw the feature, this seed did not), fixtures not posed or parts left out
 *       "cases": { "pass", "inconclusive", "fail": number } | null,
 *                                           the judged cases by outcome (accuracy/inconclusive.ts): "robust" is a check
 *                                           whose cases were all inconclusive; null/absent: no cases were run
 *       "grade": { "class": "correctly rounded" | "as accurate as honest" | "worse than honest",
 *                  "ulps": worst error in ulps against the correctly rounded result (over every graded output),
 *                  "ratio": worst ulps / max(1, least accurate honest algorithm's ulps) on the same case,
 *                  "quantity": the deciding output, "caseUlps", "honestUlps": its ulps and the honest ones,
 *                  "label": the deciding case's input description, "path": its replay path (null: a fixed case),
 *                  "outputs": number of graded outputs } | null     (accuracy/grade.ts; null: nothing graded)
 *       (the per-case points of the accuracy picture, CheckResult.points, are not written: up to 400 per check,
 *        ~10 MB for a full run of one adapter; --html draws them from the run itself)
 *     } ]
 *   } ]
 * }
 * Non-finite numbers (a NaN where a number was expected gives ratio ∞) are written as the strings
 * "Infinity", "-Infinity", "NaN", since JSON has no such numbers.
 */
import type { BaselineComparison } from '../baseline.js';
import type { RunReport } from '../runner.js';
import { writeReportFile, type ReportFile } from './write_file.js';

/** The CLI's additions to the runner's report: the final exit code and the baseline verdict. */
export interface JsonExtras {
  exitCode: 0 | 1 | 2;
  baseline: { file: string; comparison: BaselineComparison } | null;
}

export function toJson(report: RunReport, extras?: JsonExtras): string {
  const out = extras
    ? { ...report, exitCode: extras.exitCode, baseline: extras.baseline ? { file: extras.baseline.file, ...extras.baseline.comparison } : null }
    : { ...report, baseline: null };
  return JSON.stringify(out, (k, v) => (k === 'points' ? undefined : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

export function jsonReportFile(report: RunReport, file: string, extras?: JsonExtras): ReportFile {
  return { option: '--json', file, kind: 'json', text: `${toJson(report, extras)}\n` };
}

export function writeJson(report: RunReport, file: string, extras?: JsonExtras): void {
  const f = jsonReportFile(report, file, extras);
  writeReportFile(f.option, f.file, f.text, f.kind);
}
