/**
 * Report files are written atomically and all or nothing: a full disk or a failing rename leaves every
 * previous report as it was and no temporary file behind. The failures are injected into node:fs (the
 * machine has no small filesystem to fill): a write that stops half-way with ENOSPC, a real ENOSPC from
 * /dev/full, a rename that fails.
 */
import * as realFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const inject = vi.hoisted(() => ({ halfWriteOf: null as string | null, devFull: false, failRenameTo: null as string | null }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const mocked = {
    ...fs,
    // a full disk half-way through the report: the first half lands where it was going, then ENOSPC
    writeFileSync: (file: realFs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, options?: realFs.WriteFileOptions) => {
      if (inject.halfWriteOf !== null && typeof data === 'string' && data.includes(inject.halfWriteOf)) {
        inject.halfWriteOf = null;
        fs.writeFileSync(file, data.slice(0, data.length >> 1));
        throw enospc();
      }
      return fs.writeFileSync(file, data, options);
    },
    // the temporary file opened on /dev/full: the kernel's own ENOSPC on the first write
    openSync: (path: realFs.PathLike, flags?: realFs.OpenMode, mode?: realFs.Mode) => {
      if (inject.devFull && String(path).endsWith('.tmp')) {
        inject.devFull = false;
        return fs.openSync('/dev/full', 'w');
      }
      return fs.openSync(path, flags ?? 'r', mode);
    },
    renameSync: (from: realFs.PathLike, to: realFs.PathLike) => {
      if (inject.failRenameTo !== null && String(to) === inject.failRenameTo) {
        throw Object.assign(new Error(`EIO: i/o error, rename '${String(from)}' -> '${String(to)}'`), { code: 'EIO' });
      }
      return fs.renameSync(from, to);
    },
  };
  return { ...mocked, default: mocked };
});

const { writeReportFile, writeReportFiles, ReportWriteError } = await import('../../conformance/report/write_file.js');

const dir = mkdtempSync(join(tmpdir(), 'normcheck-write-'));
const report = (n: number) => `${JSON.stringify({ schema: 'normcheck-report/1', run: n, padding: 'x'.repeat(400) }, null, 2)}\n`;

afterEach(() => {
  inject.halfWriteOf = null;
  inject.devFull = false;
  inject.failRenameTo = null;
});

describe('writing report files', () => {
  it('keeps the previous report whole when the disk fills half-way through the new one', () => {
    const file = join(dir, 'full.json');
    writeFileSync(file, report(1));
    inject.halfWriteOf = '"run": 2';
    expect(() => writeReportFile('--json', file, report(2), 'json')).toThrow(/^--json \S+full\.json: cannot write the report: ENOSPC/);
    expect(readFileSync(file, 'utf8')).toBe(report(1));
    expect(readdirSync(dir).filter((f) => f.startsWith('.full.json'))).toEqual([]);
  });

  it.skipIf(!realFs.existsSync('/dev/full'))('turns the kernel\'s ENOSPC (/dev/full) into a ReportWriteError and leaves the old report', () => {
    const file = join(dir, 'devfull.json');
    writeFileSync(file, report(1));
    inject.devFull = true;
    let error: unknown;
    try {
      writeReportFile('--json', file, report(2), 'json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReportWriteError);
    expect((error as Error).message).toMatch(/cannot write the report: ENOSPC/);
    expect(readFileSync(file, 'utf8')).toBe(report(1));
    expect(readdirSync(dir).filter((f) => f.startsWith('.devfull.json'))).toEqual([]);
  });

  it('writes several reports all or nothing: a full disk on the second leaves the first untouched', () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, report(1));
    inject.halfWriteOf = '"run": 3';
    expect(() => writeReportFiles([
      { option: '--json', file: a, kind: 'json', text: report(2) },
      { option: '--write-baseline', file: b, kind: 'baseline', text: report(3) },
    ])).toThrow(/^--write-baseline \S+b\.json: cannot write the report: ENOSPC.*no report was written \(all or nothing\)/);
    expect(readFileSync(a, 'utf8')).toBe(report(1));
    expect(realFs.existsSync(b)).toBe(false);
    expect(readdirSync(dir).filter((f) => /^\.[ab]\.json\./.test(f))).toEqual([]);
  });

  it('restores the reports already renamed when a later rename fails', () => {
    const a = join(dir, 'r1.json');
    const b = join(dir, 'r2.json');
    const fresh = join(dir, 'r0.json');
    writeFileSync(a, report(1));
    writeFileSync(b, report(1));
    inject.failRenameTo = b;
    expect(() => writeReportFiles([
      { option: '--json', file: fresh, kind: 'json', text: report(2) },
      { option: '--json', file: a, kind: 'json', text: report(2) },
      { option: '--junit', file: b, kind: 'json', text: report(2) },
    ])).toThrow(/--junit \S+r2\.json: cannot write the report: EIO.*previous files are restored/);
    expect(readFileSync(a, 'utf8')).toBe(report(1));
    expect(readFileSync(b, 'utf8')).toBe(report(1));
    expect(realFs.existsSync(fresh)).toBe(false);
    expect(readdirSync(dir).filter((f) => /^\.r\d\.json\./.test(f))).toEqual([]);
  });

  it('replaces every target when all writes succeed', () => {
    const a = join(dir, 'ok.json');
    writeFileSync(a, report(1));
    writeReportFiles([{ option: '--json', file: a, kind: 'json', text: report(2) }, { option: '--json', file: join(dir, 'new', 'ok2.json'), kind: 'json', text: report(3) }]);
    expect(readFileSync(a, 'utf8')).toBe(report(2));
    expect(readFileSync(join(dir, 'new', 'ok2.json'), 'utf8')).toBe(report(3));
    expect(readdirSync(dir).filter((f) => f.startsWith('.ok.json'))).toEqual([]);
  });
});
