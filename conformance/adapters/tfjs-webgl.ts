/**
 * TensorFlow.js ops on the WebGL backend, run in headless Chromium by the browser host
 * (conformance/hosts/browser.ts): the page module is tfjs/webgl_page.ts, compiled to dist/.
 */
import { fileURLToPath } from 'node:url';
import { browserBuiltin } from '../hosts/browser.js';
import { OPS_UNSUPPORTED } from './tfjs/ops.js';

/** The compiled page module next to this file's compiled form (the page runs JavaScript only). */
export function pageModule(name: string): string {
  const here = fileURLToPath(new URL(`./tfjs/${name}`, import.meta.url));
  return here.includes('/dist/') ? here : here.replace(/\/conformance\/adapters\//, '/dist/conformance/adapters/');
}

export default browserBuiltin({
  name: 'tfjs-webgl', precision: 'float32', layout: 'NHWC', profile: 'pytorch',
  description: 'TensorFlow.js ops (tf.moments + tf.batchNorm, tf.grads) on the WebGL backend in headless Chromium (WebGL2 on ANGLE), PyTorch profile, NHWC',
  page: { file: pageModule('webgl_page.js'), gpu: 'webgl' },
  capabilities: ['bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward'],
  packages: ['@tensorflow/tfjs'],
  // as the page module declares it (the host takes the page's declaration; this one is for normcheck list)
  unsupported: OPS_UNSUPPORTED,
});
