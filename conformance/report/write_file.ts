/**
 * Every report file (--json, --junit, --write-baseline, --baseline-junit, mutants --json) is written here.
 *
 * Refusing before the run (`checkReportTargets`): a report is never written onto a directory, onto a file
 * the run reads (an adapter module, given in `protect`), onto the same path as another report of the run,
 * or onto an existing file that is not a normcheck report of the same kind — a report is recognised by its
 * first bytes: JSON whose first key is "schema" with this kind's schema, or JUnit XML whose root element is
 * `<testsuites name="normcheck…">`. An empty file may be overwritten (`touch report.json`, mktemp). A parent
 * folder that is a file, or a folder that cannot be written to, is refused then too, so a usage mistake
 * costs no run.
 *
 * Writing, all or nothing (`writeReportFiles`): each report goes to a temporary file in its own folder
 * (created first, so `--json reports/normcheck.json` works in a fresh CI checkout), is flushed with fsync,
 * and only when every report is on disk are they renamed over their targets — rename within a folder is
 * atomic, so a reader sees the old report or the new one, never a truncated one. If any write fails (a full
 * disk, permissions changed during the run), every temporary file is removed and every target is left as it
 * was; if a rename fails, the targets already renamed are restored from hard links taken before. So the
 * reports on disk are either all from this run, carrying its exit code, or all untouched, and the failure is
 * a ReportWriteError naming the option, the file and the system's reason (the CLI: a usage error, exit 2).
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync, closeSync, constants, copyFileSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, realpathSync, renameSync,
  statSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export class ReportWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportWriteError';
  }
}

/** What a report file holds, so an existing file can be recognised as one of ours before it is replaced. */
export type ReportKind = 'json' | 'junit' | 'baseline' | 'mutants-json' | 'html';

export interface ReportTarget {
  /** the flag that asked for it: '--json', '--junit', … */
  option: string;
  file: string;
  kind: ReportKind;
}

export interface ReportFile extends ReportTarget {
  text: string;
}

/** A file the run reads and no report may replace: an adapter module. */
export interface ProtectedPath {
  file: string;
  what: string;
}

const SIGNATURES: Record<ReportKind, { test: RegExp; what: string }> = {
  json: { test: /^\s*\{\s*"schema"\s*:\s*"normcheck-report\/\d+"/, what: 'a normcheck JSON report (schema normcheck-report/1)' },
  baseline: { test: /^\s*\{\s*"schema"\s*:\s*"normcheck-baseline\/\d+"/, what: 'a normcheck baseline (schema normcheck-baseline/1)' },
  'mutants-json': { test: /^\s*\{\s*"schema"\s*:\s*"normcheck-mutants\/\d+"/, what: 'a normcheck mutants report (schema normcheck-mutants/1)' },
  junit: { test: /^\s*(<\?xml[^>]*\?>\s*)?<testsuites\s[^>]*\bname="normcheck[ "]/, what: 'a normcheck JUnit report (<testsuites name="normcheck…">)' },
  html: { test: /^\s*<!doctype html>\s*<html[^>]*>\s*<head>\s*<meta charset="utf-8">\s*<meta name="generator" content="normcheck"/i, what: 'a normcheck HTML report (<meta name="generator" content="normcheck">)' },
};

/** The first bytes of a file: enough for the signatures above, without reading a large file whole. */
function head(file: string, bytes = 4096): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function canonical(file: string): string {
  const abs = resolve(file);
  try {
    return realpathSync(abs);
  } catch {
    // not there yet: the real path of its parent, if that exists, else as given
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return `${err.code ? `${err.code}, ` : ''}${err.message ?? String(e)}`;
}

/** The nearest folder of `file` that exists; an error when a file stands where a folder should be. */
function nearestFolder(t: ReportTarget): string {
  let d = dirname(resolve(t.file));
  for (;;) {
    if (existsSync(d)) {
      if (!statSync(d).isDirectory()) throw new ReportWriteError(`${t.option} ${t.file}: cannot write the report: ENOTDIR, ${d} is a file, not a folder`);
      return d;
    }
    const up = dirname(d);
    if (up === d) return d;
    d = up;
  }
}

/**
 * Before the run: every reason a report could not or must not be written that can be known now.
 * Throws ReportWriteError naming the option and the file.
 */
export function checkReportTargets(targets: readonly ReportTarget[], protect: readonly ProtectedPath[] = []): void {
  const seen = new Map<string, ReportTarget>();
  const guarded = new Map(protect.map((p) => [canonical(p.file), p]));
  for (const t of targets) {
    if (t.file.trim() === '') throw new ReportWriteError(`${t.option}: needs a file name, got an empty one`);
    const key = canonical(t.file);
    const other = seen.get(key);
    if (other) throw new ReportWriteError(`${t.option} ${t.file}: the same file as ${other.option} ${other.file}; each report needs its own file`);
    seen.set(key, t);
    const g = guarded.get(key);
    if (g) throw new ReportWriteError(`${t.option} ${t.file}: refusing to write the report over ${g.what}`);
    const folder = nearestFolder(t);
    try {
      accessSync(folder, constants.W_OK);
    } catch (e) {
      throw new ReportWriteError(`${t.option} ${t.file}: cannot write the report: the folder ${folder} is not writable (${reason(e)})`);
    }
    if (!existsSync(t.file)) continue;
    const st = statSync(t.file);
    if (st.isDirectory()) throw new ReportWriteError(`${t.option} ${t.file}: cannot write the report: EISDIR, it is a folder`);
    if (!st.isFile()) throw new ReportWriteError(`${t.option} ${t.file}: refusing to write the report over something that is not a regular file`);
    if (st.size === 0) continue;
    let start: string;
    try {
      start = head(t.file);
    } catch (e) {
      throw new ReportWriteError(`${t.option} ${t.file}: cannot read the existing file to see whether it is a report: ${reason(e)}`);
    }
    const sig = SIGNATURES[t.kind];
    if (!sig.test.test(start)) {
      throw new ReportWriteError(`${t.option} ${t.file}: refusing to overwrite an existing file that is not ${sig.what}; remove it or choose another path`);
    }
  }
}

function tempName(file: string, suffix: string): string {
  return join(dirname(resolve(file)), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.${suffix}`);
}

function removeQuietly(file: string | null): void {
  if (!file) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Writes every file, all or nothing (see the header). Runs checkReportTargets first. */
export function writeReportFiles(files: readonly ReportFile[], protect: readonly ProtectedPath[] = []): void {
  const untouched = files.length > 1 ? '; no report was written (all or nothing), the previous files are unchanged' : '; the previous file is unchanged';
  try {
    checkReportTargets(files, protect);
  } catch (e) {
    throw e instanceof ReportWriteError ? new ReportWriteError(`${e.message}${untouched}`) : e;
  }
  const temps: (string | null)[] = files.map(() => null);
  // 1. every report to a temporary file beside its target
  files.forEach((f, i) => {
    try {
      mkdirSync(dirname(resolve(f.file)), { recursive: true });
      const tmp = tempName(f.file, 'tmp');
      const fd = openSync(tmp, 'wx', 0o666);
      temps[i] = tmp;
      try {
        writeFileSync(fd, f.text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      temps.forEach(removeQuietly);
      throw new ReportWriteError(`${f.option} ${f.file}: cannot write the report: ${reason(e)}${untouched}`);
    }
  });
  // 2. rename each over its target, keeping a hard link to the old one until all are in place
  const backups: (string | null)[] = files.map(() => null);
  let done = 0;
  try {
    for (; done < files.length; done++) {
      const f = files[done]!;
      if (existsSync(f.file)) {
        const bak = tempName(f.file, 'bak');
        try {
          linkSync(f.file, bak);
        } catch {
          copyFileSync(f.file, bak);
        }
        backups[done] = bak;
      }
      renameSync(temps[done]!, f.file);
      temps[done] = null;
    }
  } catch (e) {
    const f = files[done]!;
    for (let j = 0; j < done; j++) {
      try {
        if (backups[j]) renameSync(backups[j]!, files[j]!.file);
        else unlinkSync(files[j]!.file);
      } catch {
        // best effort: the error below names the file that failed
      }
      backups[j] = null;
    }
    temps.forEach(removeQuietly);
    backups.forEach(removeQuietly);
    throw new ReportWriteError(`${f.option} ${f.file}: cannot write the report: ${reason(e)}; no report was written (all or nothing), the previous files are restored`);
  }
  backups.forEach(removeQuietly);
}

/** One report file (mutants --json): the same checks and the same atomic write. */
export function writeReportFile(option: string, file: string, text: string, kind: ReportKind): void {
  writeReportFiles([{ option, file, text, kind }]);
}
