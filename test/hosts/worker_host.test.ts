/**
 * The worker host against hostile adapters (test/hosts/fixtures/*.mjs, each a correct adapter broken in one
 * way): whatever the adapter does, the run finishes with every check reported, the failure is blamed on the
 * call (and the case) that caused it, its replay reproduces it, and the checks after it run on a restarted
 * worker with setup() run again (the fixtures' calls throw when setup() did not run in their thread).
 * Small timeouts, --quick, two or three checks per run: each run takes well under a second.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { openHost, type OpenOptions } from '../../conformance/hosts/open.js';
import { runConformance, type CheckResult } from '../../conformance/runner.js';

const fixture = (name: string) => join('test/hosts/fixtures', `${name}.mjs`);
const seed = 7;
/** the checks of every run: one that trips the fixtures (cases of ≥ 12 values from its first run) and one after it that does not */
const only = 'bn.eval.forward,ln.forward.row_independence';
const tripped = 'bn.eval.forward';
const lines: string[] = [];
const quiet: OpenOptions = { loadTimeoutMs: 20_000, log: (l) => void lines.push(l) };

async function check(name: string, options: { timeoutMs?: number; path?: string; open?: OpenOptions; only?: string } = {}) {
  const host = await openHost(fixture(name), { ...quiet, ...options.open });
  const report = await runConformance([{ host }], {
    quick: true, seed, only: options.only ?? only, timeoutMs: options.timeoutMs ?? 2_000, ...(options.path ? { path: options.path } : {}),
  });
  const byId = Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c])) as Record<string, CheckResult>;
  return { report, byId, stats: host.stats };
}

/** The number of values of a described case ("x: 108 values" or "x=[a, b, …]"). */
function caseSize(counterexample: string | null): number {
  const m = /x: (\d+) values/.exec(counterexample ?? '');
  if (m) return Number(m[1]);
  const list = /x=\[([^\]]*)\]/.exec(counterexample ?? '');
  return list ? list[1]!.split(',').length : 0;
}

/** Blame and replay: the failing check's case trips the fixture, a replay of its path fails the same way. */
async function expectBlamedAndReplayed(name: string, message: RegExp, options: { timeoutMs?: number; open?: OpenOptions } = {}) {
  const { report, byId, stats } = await check(name, options);
  const bad = byId[tripped]!;
  expect(bad.status).toBe('error');
  expect(bad.message).toMatch(message);
  expect(caseSize(bad.counterexample)).toBeGreaterThanOrEqual(12);
  // the check after the failure ran on a restarted worker, with setup() run again
  expect(byId['ln.forward.row_independence']!.status).toBe('pass');
  expect(report.exitCode).toBe(1);
  const again = await check(name, { ...options, only: tripped, path: bad.path! });
  const replayed = again.byId[tripped]!;
  expect(replayed.status).toBe('error');
  expect(replayed.message).toBe(bad.message);
  expect(replayed.counterexample).toBe(bad.counterexample);
  return { bad, stats };
}

describe('the worker host, against an adapter that', () => {
  it('declares features unsupported: the declaration crosses the handshake and the report carries it', async () => {
    const { report } = await check('declares_unsupported');
    expect(report.adapters[0]!.unsupported).toEqual({ all: ['rank5'], byCapability: {} });
    expect(report.adapters[0]!.checks.every((c) => c.status === 'pass')).toBe(true);
  });

  it('calls process.exit(0) in a call: that call is an error, the run goes on', async () => {
    const { stats } = await expectBlamedAndReplayed('exit_in_call', /^bnEvalForward: the adapter's worker thread called process\.exit\(0\) during the call/);
    expect(stats.restarts).toBeGreaterThanOrEqual(1);
  });

  it('calls process.exit from a timer after its call returned: blamed on the call that scheduled it', async () => {
    await expectBlamedAndReplayed('exit_later', /^bnEvalForward returned, then the adapter's worker thread called process\.exit\(3\) from a callback it scheduled/);
  });

  it('throws from a setTimeout callback after its call returned: blamed on that call, with the stack', async () => {
    const { bad } = await expectBlamedAndReplayed('timer_throw', /^bnEvalForward returned, then a callback it scheduled threw Error: late boom/);
    expect(bad.details.join('\n')).toMatch(/adapter traceback:[\s\S]*timer_throw\.mjs/);
  });

  it('spins in a synchronous infinite loop: the timeout stops the thread', async () => {
    await expectBlamedAndReplayed('spin', /^bnEvalForward did not return within 1000 ms \(its worker thread was stopped/, { timeoutMs: 1_000 });
  });

  it('returns a Promise that never settles: a timeout, then a fresh thread', async () => {
    await expectBlamedAndReplayed('hang', /^bnEvalForward did not return within 1000 ms/, { timeoutMs: 1_000 });
  });

  it('exhausts its heap: the worker\'s heap limit ends the thread, not the run', async () => {
    await expectBlamedAndReplayed('oom', /^bnEvalForward: the adapter's worker thread ran out of memory \(the worker's heap limit is 16 MB\) during the call/, {
      timeoutMs: 20_000, open: { memoryLimitMb: 16 },
    });
  });

  it.each([
    ['undefined', 'undefined'], ['null', 'null'], ['bare', 'a non-Error object {}'], ['reject', 'undefined'],
  ])('throws %s: that call\'s error, naming the value', async (which, value) => {
    process.env.NORMCHECK_TEST_THROW = which;
    try {
      const { byId } = await check('throws_odd', { only: 'bn.eval.forward' });
      expect(byId['bn.eval.forward']).toMatchObject({ status: 'error', message: `bnEvalForward threw ${value}` });
    } finally {
      delete process.env.NORMCHECK_TEST_THROW;
    }
  });

  it.each([
    // a generous load timeout where the thread ends by itself (a loaded machine starts threads slowly)
    ['exit_at_import', 20_000, /exit_at_import\.mjs: called process\.exit\(0\) while loading$/],
    ['tla_never', 20_000, /tla_never\.mjs: did not finish loading: its top-level await never settles/],
    ['tla_forever', 500, /tla_forever\.mjs: did not finish loading within 500 ms/],
  ])('%s: a load error naming the file', async (name, loadTimeoutMs, message) => {
    await expect(openHost(fixture(name), { ...quiet, loadTimeoutMs })).rejects.toThrow(message);
  });

  it.each(['available', 'setup', 'teardown'])('throws undefined from %s(), or rejects with nothing: reported, the run finishes', async (hook) => {
    for (const mode of ['throw', 'reject']) {
      process.env.NORMCHECK_TEST_HOOK = hook;
      process.env.NORMCHECK_TEST_HOOK_MODE = mode;
      try {
        const { report } = await check('hooks_odd', { only: 'bn.eval.forward' });
        const a = report.adapters[0]!;
        expect(a.message).toMatch(new RegExp(`^${hook}\\(\\) threw: undefined$`));
        expect(a.state).toBe(hook === 'available' ? 'unavailable' : hook === 'setup' ? 'setup error' : 'ran');
      } finally {
        delete process.env.NORMCHECK_TEST_HOOK;
        delete process.env.NORMCHECK_TEST_HOOK_MODE;
      }
    }
  });
});

describe('normcheck check on a module path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'normcheck-hosts-'));

  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
    return { code, stdout, stderr };
  }

  it('runs it in a worker: an adapter that prints cannot corrupt the report; its lines go to stderr with its name', async () => {
    const r = await cli('check', fixture('prints'), '--quick', '--seed', '1', '--only', 'ln.forward.multi_axis');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/lnForward called|not a table row/);
    expect(r.stdout).toMatch(/1 passed, 0 failed/);
    expect(r.stderr).toMatch(/^\[test\/hosts\/fixtures\/prints\.mjs\] lnForward called$/m);
    expect(r.stderr).toMatch(/^\[test\/hosts\/fixtures\/prints\.mjs\] \| not a table row \|$/m);
  });

  it('finishes a run whose adapter calls process.exit: the table, the JSON report, exit 1, and a replay line that reproduces it', async () => {
    const json = join(dir, 'exit.json');
    const r = await cli('check', fixture('exit_in_call'), '--quick', '--seed', '7', '--only', only, '--json', json);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^bn\.eval\.forward +ERR$/m);
    expect(r.stdout).toMatch(/^ln\.forward\.row_independence +0\.\d+$|^ln\.forward\.row_independence +0$/m);
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    expect(saved.summary).toMatchObject({ errors: 1, passed: 1 });
    expect(saved.adapters[0].host).toBe('worker');
    const replay = /replay: npx normcheck check (\S+) --only (\S+) --seed (\d+) --path "(\d+)" --quick/.exec(r.stdout)!;
    const again = await cli('check', replay[1]!, '--only', replay[2]!, '--seed', replay[3]!, '--path', replay[4]!, '--quick');
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('called process.exit(0) during the call');
  });

  it('--in-process runs it in this process (and says so in the report)', async () => {
    const json = join(dir, 'in-process.json');
    const r = await cli('check', fixture('hang'), '--in-process', '--quick', '--seed', '1', '--only', 'ln.forward.row_independence', '--json', json);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).adapters[0].host).toBe('in-process');
  });
});
