/**
 * tfjs-webgl with half-float textures forced (WEBGL_FORCE_F16_TEXTURES), as on devices without float32
 * render targets; judged as float16. Runs in headless Chromium (see tfjs-webgl.ts).
 */
import { browserBuiltin } from '../hosts/browser.js';
import { OPS_UNSUPPORTED } from './tfjs/ops.js';
import { pageModule } from './tfjs-webgl.js';

export default browserBuiltin({
  name: 'tfjs-webgl-f16', precision: 'float16', layout: 'NHWC', profile: 'pytorch',
  description: 'TensorFlow.js ops on the WebGL backend with half-float textures forced, in headless Chromium; judged as float16',
  page: { file: pageModule('webgl_f16_page.js'), gpu: 'webgl' },
  capabilities: ['bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward'],
  packages: ['@tensorflow/tfjs'],
  // as the page module declares it (the host takes the page's declaration; this one is for normcheck list)
  unsupported: OPS_UNSUPPORTED,
});
