/**
 * The subprocess host and its wire protocol. Protocol attacks come from a JavaScript child that speaks the
 * protocol by hand (fixtures/wire_child.mjs: only node needed); adapter attacks from the Python client
 * (fixtures/py_hostile.py), skipped with a printed reason where no python3 with numpy is found. Whatever
 * the child does, the run finishes, the failure names the call (or, before the handshake, the spec), and
 * nothing hangs. Quick runs, two checks each.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { splitCommandLine } from '../../conformance/hosts/command_line.js';
import { openHost, type OpenOptions } from '../../conformance/hosts/open.js';
import { findPython } from '../../conformance/hosts/python.js';
import { decodeFrame, encodeFrame, FrameReader, MalformedFrame } from '../../conformance/hosts/wire.js';
import { runConformance, type CheckResult } from '../../conformance/runner.js';

const seed = 7;
const lines: string[] = [];
const quiet: OpenOptions = { loadTimeoutMs: 30_000, log: (l) => void lines.push(l) };
const wire = (mode: string) => `subprocess:node test/hosts/fixtures/wire_child.mjs ${mode}`;

async function check(spec: string, only: string, options: { timeoutMs?: number; path?: string; open?: OpenOptions } = {}) {
  const host = await openHost(spec, { ...quiet, ...options.open });
  const report = await runConformance([{ host }], { quick: true, seed, only, timeoutMs: options.timeoutMs ?? 5_000, ...(options.path ? { path: options.path } : {}) });
  const byId = Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c])) as Record<string, CheckResult>;
  return { report, byId, stats: host.stats };
}

describe('the wire protocol\'s frames', () => {
  it('carry arrays as raw bytes: NaN, ±Infinity and -0 arrive bit for bit, in both dtypes', () => {
    const x = Float32Array.from([NaN, Infinity, -Infinity, -0, 1.5, 2 ** -149]);
    const d = Float64Array.from([-0, NaN, 1e308, 5e-324]);
    const frame = encodeFrame({ type: 'call', calls: [{ id: 1, capability: 'lnForward', args: { x, d, shape: [2, 3], eps: 1e-5, w: null } }] });
    expect(frame.readUInt32LE(0)).toBe(frame.length - 4);
    const decoded = decodeFrame(frame.subarray(4)) as { calls: { args: { x: Float32Array; d: Float64Array; shape: number[]; eps: number; w: null } }[] };
    const args = decoded.calls[0]!.args;
    expect(args.x).toBeInstanceOf(Float32Array);
    expect(Buffer.from(args.x.buffer).equals(Buffer.from(x.buffer))).toBe(true);
    expect(Buffer.from(args.d.buffer).equals(Buffer.from(d.buffer))).toBe(true);
    expect(args).toMatchObject({ shape: [2, 3], eps: 1e-5, w: null });
  });

  it.each<[string, Buffer, RegExp]>([
    ['a header that is not JSON', Buffer.from([3, 0, 0, 0, 0x7b, 0x7b, 0x7d]), /the header is not JSON/],
    ['a header length past the frame', Buffer.from([99, 0, 0, 0, 0x7b, 0x7d]), /header length 99 exceeds the frame's 2 bytes/],
    ['an array past the frame\'s end', (() => {
      const f = encodeFrame({ v: Float64Array.from([1, 2]) }).subarray(4);
      return f.subarray(0, f.length - 8);
    })(), /header\.arrays\[0\] \(float64, shape \[2\]\) runs past the frame's end by 8 bytes/],
    ['a reference to no array', encodeFrame({ v: { $array: 3 } }).subarray(4), /\{"\$array": 3\} names no array of the frame's 0/],
  ])('are malformed with %s, naming what is wrong', (_what, frame, message) => {
    expect(() => decodeFrame(frame)).toThrow(MalformedFrame);
    expect(() => decodeFrame(frame)).toThrow(message);
  });

  it('are split from a stream however it is chunked, and a length past 1 GiB is malformed', () => {
    const frames = [encodeFrame({ a: 1 }), encodeFrame({ b: Float32Array.from([1, 2, 3]) })];
    const bytes = Buffer.concat(frames);
    const got: Buffer[] = [];
    const reader = new FrameReader((f) => got.push(f), (e) => { throw e; });
    for (let i = 0; i < bytes.length; i += 3) reader.push(bytes.subarray(i, i + 3));
    expect(got.map((f) => decodeFrame(f))).toEqual([{ a: 1 }, { b: Float32Array.from([1, 2, 3]) }]);
    const bad: MalformedFrame[] = [];
    new FrameReader(() => undefined, (e) => bad.push(e)).push(Buffer.from('Hello world'));
    expect(bad[0]!.message).toMatch(/a frame length of 1819043144 bytes \(more than the 1073741824 allowed; are these bytes a frame\? they begin "Hello world"\)/);
  });
});

describe('subprocess: command lines', () => {
  it.each<[string, string[]]>([
    ['python3 my_bn.py', ['python3', 'my_bn.py']],
    [`  python3   'my bn.py'  --flag="a b" `, ['python3', 'my bn.py', '--flag=a b']],
    [String.raw`sh -c 'exec python3 x.py' a\ b "q\"uote" "\$HOME"`, ['sh', '-c', 'exec python3 x.py', 'a b', 'q"uote', '$HOME']],
    [`a '' ""`, ['a', '', '']],
  ])('split %j like a shell, without expanding anything', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });

  it.each([[`python3 'x.py`, /unterminated single quote at character 9/], [`a "b`, /unterminated double quote/], ['a \\', /a backslash ends/]])('refuse %j', async (line, message) => {
    expect(() => splitCommandLine(line)).toThrow(message);
    await expect(openHost(`subprocess:${line}`, quiet)).rejects.toThrow(message);
  });
});

describe('a subprocess adapter that', () => {
  it.each<[string, string, RegExp]>([
    ['does not start', 'subprocess:/no/such/normcheck-adapter --x', /^subprocess:\/no\/such\/normcheck-adapter --x: cannot start "\/no\/such\/normcheck-adapter": no such command/],
    ['exits at once, saying why on stderr', wire('exit-at-once'), /exited with code 1 before completing the protocol's handshake; the last lines of its stderr:\n {2}cannot find my weights$/],
    ['speaks another protocol version', wire('version'), /speaks protocol version 99; this normcheck speaks version 1 \(docs\/protocol\.md\)$/],
    ['sends bytes that are not a frame as its handshake', wire('garbage-hello'), /sent a malformed frame instead of its handshake: a frame length of \d+ bytes .*they begin "Hello, I am not a frame at all\\n"/],
    ['declares an unknown capability', wire('unknown-cap'), /declares the capability "lnFoward", which this normcheck does not know \(did you mean lnForward\?\)/],
    ['declares a malformed adapter', wire('bad-adapter'), /: adapter\.layout must be 'NCHW' or 'NHWC', got "NCWH"$/],
  ])('%s: a load error naming the spec', async (_what, spec, message) => {
    await expect(openHost(spec, quiet)).rejects.toThrow(message);
  });

  it('never answers the handshake: a load error after --load-timeout, not a hang', async () => {
    await expect(openHost(wire('silent'), { ...quiet, loadTimeoutMs: 400 })).rejects.toThrow(/did not complete the protocol's handshake within 400 ms$/);
  });

  it('answers correctly: passes, every call through the wire', async () => {
    const { byId, stats } = await check(wire('ok'), 'ln.forward.row_independence');
    expect(byId['ln.forward.row_independence']!.status).toBe('pass');
    expect(stats.calls).toBeGreaterThan(0);
  });

  it('answers with a malformed frame: that call\'s protocol error, then a fresh process for the next check', async () => {
    const { byId, stats } = await check(wire('malformed-answer'), 'ln.forward.row_independence,ln.forward.odd_sizes');
    for (const id of ['ln.forward.row_independence', 'ln.forward.odd_sizes']) {
      expect(byId[id]!.status).toBe('error');
      expect(byId[id]!.message).toMatch(/^lnForward: the adapter's process sent a malformed frame: a frame length of 2147483647 bytes/);
      expect(byId[id]!.counterexample).toMatch(/not shrunk/);
    }
    // the second check ran on a restarted process, once: after a malformed frame a check stops calling (no restart per shrink step)
    expect(stats.restarts).toBe(1);
  });

  it('answers with an array of a dtype the protocol does not carry: that check fails, naming the dtype', async () => {
    const { byId } = await check(wire('int32-answer'), 'ln.forward.row_independence');
    expect(byId['ln.forward.row_independence']).toMatchObject({
      status: 'fail', message: expect.stringMatching(/^lnForward returned y as an array of dtype int32, shape \(\d+\) \(the wire protocol carries float32 and float64\); a float32 adapter must return Float32Array$/),
    });
  });
});

const numpyPython = findPython(['numpy']);
if ('missing' in numpyPython) console.log(`skipping the Python client's tests: ${numpyPython.missing} (apt-get install -y --no-install-recommends python3-numpy)`);
const py = (mode: string) => `subprocess:${'python' in numpyPython ? numpyPython.python : 'python3'} test/hosts/fixtures/py_hostile.py ${mode}`;
const only = 'bn.eval.forward,ln.forward.row_independence';

describe.skipIf('missing' in numpyPython)('a Python adapter (normcheck_adapter.py) that', () => {
  /** The failing check's case trips the fixture (≥ 12 values), the check after it runs, a replay reproduces it. */
  async function expectBlamedAndReplayed(mode: string, message: RegExp, timeoutMs = 5_000, restarts = 1) {
    const { byId, stats } = await check(py(mode), only, { timeoutMs });
    const bad = byId['bn.eval.forward']!;
    expect(bad.status).toBe('error');
    expect(bad.message).toMatch(message);
    // the case is printed as x: N values, or with its values listed
    const counted = /x: (\d+) values/.exec(bad.counterexample ?? '')?.[1];
    expect(counted !== undefined ? Number(counted) : /x=\[([^\]]*)\]/.exec(bad.counterexample ?? '')?.[1]?.split(',').length).toBeGreaterThanOrEqual(12);
    expect(byId['ln.forward.row_independence']!.status).toBe('pass');
    expect(stats.restarts).toBe(restarts);
    const again = await check(py(mode), 'bn.eval.forward', { timeoutMs, path: bad.path! });
    expect(again.byId['bn.eval.forward']).toMatchObject({ status: 'error', message: bad.message, counterexample: bad.counterexample });
  }

  it('declares features unsupported (serve(unsupported=...)): the run carries the declaration and passes', async () => {
    const { report, byId } = await check(py('declares'), only);
    expect(report.adapters[0]!.unsupported).toEqual({ all: [], byCapability: { bnEvalForward: ['rank5'] } });
    expect(byId['bn.eval.forward']!.status).toBe('pass');
  });

  it('ends its process in a call (os._exit): that call crashed, a new process runs the next check', async () => {
    await expectBlamedAndReplayed('exit', /^bnEvalForward: the adapter's process exited with code 0 during the call/);
  });

  it('is killed by SIGKILL in a call (what the OOM killer does): that call crashed', async () => {
    await expectBlamedAndReplayed('sigkill', /^bnEvalForward: the adapter's process was killed by SIGKILL \(out of memory\?/);
  });

  it('spins forever: the timeout kills the process', async () => {
    await expectBlamedAndReplayed('spin', /^bnEvalForward did not return within 1500 ms \(its process was stopped/, 1_500);
  });

  it('sleeps forever (a hang that uses no CPU): the timeout kills the process', async () => {
    await expectBlamedAndReplayed('sleep', /^bnEvalForward did not return within 1500 ms \(its process was stopped/, 1_500);
  });

  it('starts a thread that ends the process after the call returned: blamed on that call, not the next check', async () => {
    await expectBlamedAndReplayed('exit-later', /^bnEvalForward returned, then the adapter's process exited with code 0 from a thread it left running/);
  });

  it('starts a thread that raises after the call returned: blamed on that call, with the thread\'s traceback', async () => {
    await expectBlamedAndReplayed('thread-raises', /^bnEvalForward returned, then a thread it started raised RuntimeError: stream \d+ was destroyed$/, 5_000, 0);
    const { byId } = await check(py('thread-raises'), only);
    expect(byId['bn.eval.forward']!.details.join('\n')).toMatch(/adapter traceback:[\s\S]*in later/);
  });

  it.each<[string, RegExp]>([
    ['raise', /^bnEvalForward threw ValueError: kernel not compiled for \d+ channels$/],
    ['system-exit', /^bnEvalForward threw SystemExit: 4$/],
    ['memory', /^bnEvalForward threw MemoryError: Unable to allocate/],
  ])('raises (%s): that call\'s error, with the Python traceback under it', async (mode, message) => {
    const { byId } = await check(py(mode), only);
    const bad = byId['bn.eval.forward']!;
    expect(bad.status).toBe('error');
    expect(bad.message).toMatch(message);
    expect(bad.details.join('\n')).toMatch(/adapter traceback:\n {2}Traceback \(most recent call last\):[\s\S]*py_hostile\.py", line \d+, in bn_eval/);
    expect(byId['ln.forward.row_independence']!.status).toBe('pass');
  });

  it.each<[string, RegExp]>([
    ['float64', /^bnEvalForward returned y as Float64Array; a float32 adapter must return Float32Array$/],
    ['short', /^bnEvalForward returned y with \d+ values; expected \d+ \(the input's shape/],
  ])('returns the wrong dtype or length (%s): that check fails, saying which', async (mode, message) => {
    const { byId } = await check(py(mode), only);
    expect(byId['bn.eval.forward']).toMatchObject({ status: 'fail', message: expect.stringMatching(message) });
  });

  it('prints to stdout: a log line on stderr, never in the protocol', async () => {
    lines.length = 0;
    const { byId } = await check(py('prints'), 'bn.eval.forward');
    expect(byId['bn.eval.forward']!.status).toBe('pass');
    expect(lines).toContain('| bn.eval.forward | differential | pass 0 |');
  });

  it.each<[string, RegExp]>([
    ['exit-at-import', /exited with code 3 before completing the protocol's handshake; the last lines of its stderr:\n {2}Traceback \(most recent call last\):\n {2}ImportError: no module named my_kernels$/],
    ['unknown-capability', /declares the capability "bnEvalFoward", which this normcheck does not know \(did you mean bnEvalForward\?\)/],
  ])('fails before serving (%s): a load error naming the spec', async (mode, message) => {
    await expect(openHost(py(mode), quiet)).rejects.toThrow(message);
  });

  it('never finishes importing: a load error after --load-timeout naming the spec, not a hang', async () => {
    await expect(openHost(py('hang-at-import'), { ...quiet, loadTimeoutMs: 1_500 })).rejects.toThrow(/py_hostile\.py hang-at-import: did not complete the protocol's handshake within 1500 ms$/);
  });

  it.each<[string, object]>([
    ['available-raises', { state: 'unavailable', message: 'available() threw: KeyError: \'NORMCHECK_DEVICE\'' }],
    ['teardown-raises', { state: 'ran', message: 'teardown() threw: SystemExit: teardown gave up' }],
  ])('raises in a hook (%s): reported for the adapter, the run finishes', async (mode, expected) => {
    const { report } = await check(py(mode), only);
    expect(report.adapters[0]).toMatchObject(expected);
  });

  it('raises in setup(): a setup error with the Python exception, the run finishes', async () => {
    const { report } = await check(py('setup-raises'), only);
    expect(report.adapters[0]).toMatchObject({ state: 'setup error', message: 'setup() threw: RuntimeError: CUDA driver version is insufficient' });
    expect(report.exitCode).toBe(2);
  });

  it('is the textbook numpy BatchNorm and LayerNorm of the examples: passes every check of the quick catalog', async () => {
    const python = (numpyPython as { python: string }).python;
    const host = await openHost(`subprocess:${python} conformance/examples/numpy_textbook.py`, quiet);
    const report = await runConformance([{ host }], { quick: true, seed: 20261127 });
    const checks = report.adapters[0]!.checks;
    expect(checks.filter((c) => c.status !== 'pass' && c.status !== 'robust' && c.status !== 'not provided').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(checks.filter((c) => c.status === 'pass' || c.status === 'robust').length).toBeGreaterThanOrEqual(50);
  });
});

describe('normcheck check on a subprocess: adapter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'normcheck-subprocess-'));
  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
    return { code, stdout, stderr };
  }

  it('runs it as a child process: the table, the JSON report naming the host, exit 0', async () => {
    const json = join(dir, 'ok.json');
    const r = await cli('check', 'subprocess:node test/hosts/fixtures/wire_child.mjs ok', '--quick', '--seed', '7', '--only', 'ln.forward.row_independence', '--json', json);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 passed, 0 failed/);
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    expect(saved.adapters[0]).toMatchObject({ name: 'wire', host: 'subprocess' });
  });

  it('a command that does not start is a loading error naming it: exit 2, nothing hangs', async () => {
    const r = await cli('check', 'subprocess:/no/such/normcheck-adapter', '--quick', '--only', 'ln.forward.row_independence');
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/subprocess:\/no\/such\/normcheck-adapter: cannot start "\/no\/such\/normcheck-adapter": no such command/);
  });
});
