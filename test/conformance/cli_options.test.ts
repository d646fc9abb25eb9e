/**
 * Every option of `normcheck check` either does what it says or is a usage error (exit 2) naming the option
 * and what was expected: no command, empty or out-of-range seeds, replay paths that replay nothing, empty
 * --only patterns, run counts and timeouts beyond what Node or a CI job can honour, --expect lines for
 * adapters that are not in the run, the same adapter twice.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import reference from '../../conformance/adapters/reference.js';
import { runConformance } from '../../conformance/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'normcheck-options-'));
const leaf = ['--only', 'ln.forward.odd_sizes'];

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
  return { code, stdout, stderr };
}

describe('normcheck with no command', () => {
  it('prints the help and exits 2, so a CI step with an empty command fails', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: normcheck/);
  });

  it('still exits 0 for help asked for', async () => {
    for (const argv of [['help'], ['help', 'check'], ['--help']]) expect((await run(...argv)).code).toBe(0);
  });
});

describe('usage errors of normcheck check', () => {
  it.each([
    [['--seed', ''], /--seed needs an integer from -2147483648 to 4294967295, got an empty string/],
    [['--seed', ' '], /--seed needs an integer .* got " "/],
    [['--seed', '1.5'], /--seed needs an integer from -2147483648 to 4294967295, got "1\.5"/],
    [['--seed', '0x10'], /--seed needs an integer .* got "0x10"/],
    [['--seed', '1e3'], /--seed needs an integer .* got "1e3"/],
    [['--seed', '4294967296'], /--seed needs an integer from -2147483648 to 4294967295, got "4294967296"/],
    [['--seed', '-2147483649'], /--seed needs an integer .* got "-2147483649"/],
    [['--seed', '42', '--path', 'abc', ...leaf], /--path must be a fast-check replay path: numbers separated by colons \(like "3:1:0"\), got "abc"/],
    [['--seed', '42', '--path', '', ...leaf], /--path must be a fast-check replay path.* got an empty string/],
    [['--seed', '42', '--path', '1:2'], /--path replays one case of one check: select exactly one check with --only/],
    [['--seed', '42', '--path', '1:2', '--only', 'ln.forward'], /--path replays one case of one check: --only ln\.forward selects \d+ checks/],
    [['--seed', '42', '--path', '1', '--only', 'fixtures.layernorm'], /--path: fixtures\.layernorm runs fixed cases, not generated ones, and has no replay path/],
    [['--only', ''], /--only needs at least one check id or pattern, got ""/],
    [['--only', ' , '], /--only needs at least one check id or pattern, got " , "/],
    [['--only', 'ln.forward.odd_sizes,ln.froward'], /--only ln\.froward: no check matches/],
    [['--skip', ''], /--skip needs at least one check id or pattern, got ""/],
    [['--skip', 'ln.froward'], /--skip ln\.froward: no check matches/],
    [['--only', 'ln.forward.odd_sizes', '--skip', 'ln.forward'], /--skip ln\.forward leaves no check of --only ln\.forward\.odd_sizes to run/],
    [['--without', 'rank6'], /option '--without <features>' argument 'rank6' is invalid\. --without: unknown feature "rank6" \(did you mean rank2 or rank3 or rank4\?\)/],
    [['--without', 'noaffine'], /--without: unknown feature "noaffine" \(did you mean no_affine\?\)/],
    [['--without', ','], /--without: expected comma-separated feature names, got ","/],
    [['--runs', '1e9'], /--runs must be an integer from 1 to 10000, got "1e9"/],
    [['--runs', '10001'], /--runs must be an integer from 1 to 10000, got "10001"/],
    [['--runs', '0'], /--runs must be an integer from 1 to 10000, got "0"/],
    [['--timeout', '3000000000'], /--timeout must be an integer number of milliseconds from 1 to 2147483647 .*got "3000000000"/],
    [['--timeout', '0'], /--timeout must be an integer number of milliseconds from 1 to 2147483647/],
    [['--check-timeout', '3e9'], /--check-timeout must be an integer number of milliseconds from 1 to 2147483647 .*got "3e9"/],
    [['--check-timeout', ''], /--check-timeout must be an integer number of milliseconds/],
    [['--tolerance', 'lax'], /--tolerance <tier>' argument 'lax' is invalid. expected one of worst-case, strict, got "lax"/],
    [['--tolerance', ''], /--tolerance <tier>' argument '' is invalid/],
  ])('check reference %j', async (argv, message) => {
    const r = await run('check', 'reference', ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it('accepts every seed the runner itself prints: 0, the largest unsigned 32-bit and a negative one', async () => {
    for (const seed of ['0', '4294967295', '-7', ' 42 ']) expect((await run('check', 'reference', '--quick', '--seed', seed, ...leaf)).code).toBe(0);
  });

  it('refuses the same adapter named twice, and two adapters of one name', async () => {
    const twice = await run('check', 'reference', 'reference', '--quick', ...leaf);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/adapter reference is named twice/);
    const alias = join(dir, 'alias.mjs');
    writeFileSync(alias, `export default { name: 'reference', precision: 'float64', layout: 'NCHW', lnForward: ({ x }) => ({ y: Float64Array.from(x) }) };\n`);
    const same = await run('check', 'reference', alias, '--quick', ...leaf);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/two adapters are named "reference" \(reference and \S+alias\.mjs\)/);
    const byPath = await run('check', alias, join(dir, '.', 'alias.mjs'), '--quick', ...leaf);
    expect(byPath.stderr).toMatch(/adapter \S+alias\.mjs is named twice/);
  });
});

describe('--skip and --without', () => {
  it('--skip leaves out the checks --only would select: a dotted prefix, a glob, an id', async () => {
    const r = await run('check', 'reference', '--quick', '--seed', '1', '--only', 'ln.forward', '--skip', 'ln.forward.odd_sizes,*.offset_*,ln.forward.multi_axis', '--json', join(dir, 'skip.json'));
    expect(r.code).toBe(0);
    const ids = (JSON.parse(readFileSync(join(dir, 'skip.json'), 'utf8')) as { adapters: { checks: { id: string }[] }[] }).adapters[0]!.checks.map((c) => c.id);
    expect(ids).toContain('ln.forward');
    expect(ids.filter((id) => id === 'ln.forward.odd_sizes' || id === 'ln.forward.multi_axis' || id.includes('.offset_'))).toEqual([]);
  });

  it('--without makes a check whose every case has the feature not applicable, and the replay line repeats it', async () => {
    const r = await run('check', 'reference', '--quick', '--seed', '1', '--only', 'ln.forward.multi_axis,ln.forward.odd_sizes', '--without', 'multi_axis', '--json', join(dir, 'without.json'));
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'without.json'), 'utf8')) as { selection: { without: string[] }; adapters: { checks: { id: string; status: string }[] }[] };
    expect(report.selection.without).toEqual(['multi_axis']);
    expect(Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c.status]))).toEqual({ 'ln.forward.odd_sizes': 'pass', 'ln.forward.multi_axis': 'not applicable' });
  });
});

describe('--path that replays no failure', () => {
  it('is reported with the replayed check, not passed silently', async () => {
    const r = await run('check', 'reference', '--quick', '--seed', '42', ...leaf, '--path', '999:5:5');
    expect(r.stdout).toMatch(/replay of reference · ln\.forward\.odd_sizes: --path "999:5:5" (did not reproduce a failure|replays no case)/);
  });

  it('is an error when fast-check finds no case at the path at all', async () => {
    const r = await run('check', 'reference', '--quick', '--seed', '42', ...leaf, '--path', '0:99999');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/--path "0:99999" replays no case of ln\.forward\.odd_sizes with seed 42 and --quick/);
  });
});

describe('--expect naming an adapter that is not in the run', () => {
  const file = join(dir, 'expect.txt');
  writeFileSync(file, 'refernce  ln.forward.odd_sizes  a typo: this line applies to nothing\n');

  it('is a warning that names the line\'s adapter and the run\'s adapters', async () => {
    const r = await run('check', 'reference', '--quick', '--seed', '1', ...leaf, '--expect', file);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/normcheck: warning: --expect \S+expect\.txt: refernce ln\.forward\.odd_sizes: no adapter named refernce in this run \(adapters: reference\)/);
  });

  it('is an error with --strict-expect, before the run', async () => {
    const r = await run('check', 'reference', '--quick', '--seed', '1', ...leaf, '--expect', file, '--strict-expect');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--expect \S+expect\.txt: refernce ln\.forward\.odd_sizes: no adapter named refernce in this run/);
    expect(r.stdout).toBe('');
  });
});

describe('runConformance options (the library)', () => {
  it.each([
    [{ timeoutMs: 3e9 }, /timeoutMs must be an integer from 1 to 2147483647/],
    [{ checkTimeoutMs: 0 }, /checkTimeoutMs must be an integer from 1 to 2147483647/],
    [{ runs: 1e9 }, /runs must be an integer from 1 to 10000/],
    [{ seed: 1.5 }, /seed must be an integer from -2147483648 to 4294967295/],
    [{ path: 'abc' }, /path must be a fast-check replay path/],
    [{ tolerance: 'probabilistic' as never }, /tolerance must be one of 'worst-case', 'strict', got "probabilistic"/],
  ])('rejects %o', async (options, message) => {
    await expect(runConformance([{ adapter: reference, spec: 'reference' }], { quick: true, only: 'ln.forward.odd_sizes', ...options })).rejects.toThrow(message);
  });

  it('gives setup() three times the call timeout without overflowing Node\'s timer at the largest --timeout', async () => {
    // setTimeout turns a delay above 2^31-1 ms into 1 ms: 3 × 715 827 883 would time setup out at once
    const slowSetup = { ...reference, name: 'slow-setup', setup: () => new Promise<void>((r) => setTimeout(r, 20)) };
    const report = await runConformance([{ adapter: slowSetup, spec: 'slow-setup' }], { quick: true, seed: 1, only: 'ln.forward.odd_sizes', timeoutMs: 2 ** 31 - 1 });
    expect(report.adapters[0]).toMatchObject({ state: 'ran', message: null });
  });
});
