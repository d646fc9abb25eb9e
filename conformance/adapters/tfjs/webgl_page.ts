/**
 * The page modules of tfjs-webgl and tfjs-webgl-f16: TensorFlow.js ops (ops.ts, the same code as tfjs-cpu)
 * on the WebGL backend, in a Chromium page (the browser host loads this file; the Node side is
 * ../tfjs-webgl.ts). WEBGL_CPU_FORWARD is off, so small tensors run on the GPU kernels too (by default tfjs
 * runs an op on its CPU backend while the inputs are small and not yet uploaded). WEBGL_USE_SHAPES_UNIFORMS
 * passes shapes to the shaders as uniforms: one compiled program serves every shape (the arithmetic is the
 * same), where a shape baked into the source means a compile per shape — on SwiftShader the largest cost.
 *
 * With `f16`, WEBGL_FORCE_F16_TEXTURES makes every texture half float — what tfjs does by itself on devices
 * without renderable float32 textures (many phones): storage in float16 between ops, arithmetic in the
 * shaders' float32. Such an adapter is judged as what it stores, float16.
 */
import { loadTf, type TF } from './backend.js';
import { makeTfjsAdapter } from './make_adapter.js';
import { OPS_UNSUPPORTED, opsImpl } from './ops.js';

export function webglAdapter(f16: boolean) {
  const load = async (): Promise<TF | string> => {
    const tf = await loadTf('webgl');
    if (typeof tf === 'string') return tf;
    // flags read when the backend initialises: before the first setBackend('webgl')
    tf.env().set('WEBGL_CPU_FORWARD', false);
    tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
    if (f16) tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
    return tf;
  };
  return makeTfjsAdapter(
    {
      name: f16 ? 'tfjs-webgl-f16' : 'tfjs-webgl', backend: 'webgl', load, precision: f16 ? 'float16' : 'float32', unsupported: OPS_UNSUPPORTED,
      description: `TensorFlow.js ops on the WebGL backend in headless Chromium (WebGL2, ANGLE${f16 ? ', half-float textures forced' : ''}), PyTorch profile, NHWC`,
    },
    opsImpl,
  );
}

export default webglAdapter(false);
