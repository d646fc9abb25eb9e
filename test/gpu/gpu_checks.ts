/** Runs a subset of the catalog on a built-in adapter with conformance/expectations.json, for the GPU tests. */
import { loadExpectations } from '../../conformance/expectations.js';
import { loadAdapter } from '../../conformance/load.js';
import { runConformance } from '../../conformance/runner.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261201);
const expectations = loadExpectations('conformance/expectations.json');

/**
 * state, exit code and `status/outcome` per check of a quick run of `only` (exact ids: no prefixes), with a
 * 30 s call timeout (a first call compiles shaders on SwiftShader, slow on a loaded machine). The
 * adapter is made available first, outside the runner's 10 s timeout: loading an engine on SwiftShader
 * (ONNX Runtime's 28 MB wasm, the first shaders) can take longer than that on a loaded machine.
 */
export async function outcomes(spec: string, only: string) {
  const adapter = await loadAdapter(spec);
  const ready = adapter.available ? await adapter.available() : true;
  if (ready !== true) throw new Error(`${spec}: ${ready}`);
  const report = await runConformance([{ adapter, spec }], { quick: true, seed, only, expectations, timeoutMs: 30_000 });
  const a = report.adapters[0]!;
  return { state: a.state, message: a.message, exitCode: report.exitCode, unsupported: a.unsupported, checks: Object.fromEntries(a.checks.map((c) => [c.id, `${c.status}/${c.outcome}`])) };
}
