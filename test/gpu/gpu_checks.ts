/** Runs a subset of the catalog on a built-in adapter with conformance/expectations.json, for the GPU tests. */
import { loadExpectations } from '../../conformance/expectations.js';
import { loadAdapter } from '../../conformance/load.js';
import { runConformance } from '../../conformance/runner.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261201);
const expectations = loadExpectations('conformance/expectations.json');

/** state, exit code and `status/outcome` per check of a quick run of `only` (exact ids: no prefixes). */
export async function outcomes(spec: string, only: string) {
  const report = await runConformance([{ adapter: await loadAdapter(spec), spec }], { quick: true, seed, only, expectations });
  const a = report.adapters[0]!;
  return { state: a.state, message: a.message, exitCode: report.exitCode, checks: Object.fromEntries(a.checks.map((c) => [c.id, `${c.status}/${c.outcome}`])) };
}
