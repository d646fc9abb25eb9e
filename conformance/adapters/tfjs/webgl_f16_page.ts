/** The page module of tfjs-webgl-f16: see webgl_page.ts. */
import { webglAdapter } from './webgl_page.js';

export default webglAdapter(true);
