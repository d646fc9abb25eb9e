/**
 * Every report file (--json, --junit, --write-baseline, --baseline-junit, mutants --json) is written here:
 * the parent folders are created first, so `--json reports/normcheck.json` works in a fresh CI checkout, and a
 * file that still cannot be written (permissions, a folder in the way, a full disk) becomes a ReportWriteError
 * naming the option, the file and the system's reason — the CLI reports it as a usage error (exit 2), not as
 * an internal error with a stack trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class ReportWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportWriteError';
  }
}

/** Writes `text` to `file`, creating its parent folders. `option` names the flag that asked for it. */
export function writeReportFile(option: string, file: string, text: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ReportWriteError(`${option} ${file}: cannot write the report: ${err.code ? `${err.code}, ` : ''}${err.message}`);
  }
}
