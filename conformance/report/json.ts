/**
 * The JSON report: the runner's RunReport as is. Schema `normcheck-report/1`:
 *
 * {
 *   "schema": "normcheck-report/1",
 *   "startedAt": ISO date, "durationMs": number, "seed": number, "quick": boolean, "runs": number,
 *   "profileOverride": "pytorch" | "keras" | "onnx" | null,
 *   "summary": { "passed", "failed", "errors", "skipped", "notProvided", "expectedFailures",
 *                "unexpectedPasses", "unavailableAdapters", "notInstalledAdapters", "loadErrors": number },
 *   "exitCode": 0 | 1 | 2,
 *   "adapters": [ {
 *     "name", "description", "precision", "layout", "profile", "spec": string,
 *     "conventions": { "momentum": number | null, "runningVar": "unbiased" | "biased", "eps": number },
 *     "capabilities": string[], "state": "ran" | "not installed" | "unavailable" | "setup error", "message": string | null,
 *     "checks": [ {
 *       "id", "category", "description": string,
 *       "status": "pass" | "fail" | "error" | "skipped" | "not provided",
 *       "outcome": "ok" | "failed" | "expected failure" | "unexpected pass", "expectedReason": string | null,
 *       "message": string,
 *       "worst": { "ratio": error/bound, "ulps", "error", "bound": number, "quantity": string } | null,
 *       "runs": number, "seed": number | null, "path": string | null,
 *       "counterexample": string | null, "details": string[], "replay": string | null, "durationMs": number
 *     } ]
 *   } ]
 * }
 * Non-finite numbers (a NaN where a number was expected gives ratio ∞) are written as the strings
 * "Infinity", "-Infinity", "NaN", since JSON has no such numbers.
 */
import type { RunReport } from '../runner.js';
import { writeReportFile } from './write_file.js';

export function toJson(report: RunReport): string {
  return JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

export function writeJson(report: RunReport, file: string): void {
  writeReportFile('--json', file, `${toJson(report)}\n`);
}
