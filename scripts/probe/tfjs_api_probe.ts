/**
 * Runs every TensorFlow.js reproduction of docs/divergences.md (scripts/probe/tfjs_repros.ts) on the cpu
 * and wasm backends and prints what happened, as a Markdown table.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/probe/tfjs_api_probe.js
 */
import { requireTf, useBackend } from '../../conformance/adapters/tfjs/backend.js';
import { TFJS_REPROS } from './tfjs_repros.js';

const tf = await requireTf('wasm');
console.log(`TensorFlow.js ${tf.version.tfjs}\n`);
console.log('| divergence | backend | correct | observed |');
console.log('|---|---|---|---|');
for (const backend of ['cpu', 'wasm'] as const) {
  await useBackend(tf, backend);
  const before = tf.memory().numTensors;
  for (const [anchor, repro] of Object.entries(TFJS_REPROS)) {
    const { correct, observed } = repro(tf);
    console.log(`| ${anchor} | ${backend} | ${correct ? 'yes' : 'no'} | ${observed.replace(/\|/g, '\\|')} |`);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) console.log(`\n${backend}: the reproductions leaked ${leaked} tensors`);
}
