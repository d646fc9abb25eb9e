/** The browser host's Chromium flags: WebGL pages on SwiftShader by default, the machine's GPU on request. */
import { describe, expect, it } from 'vitest';
import { chromiumArgs } from '../../conformance/hosts/browser.js';

describe("the browser host's Chromium flags", () => {
  it('WebGL pages get --disable-gpu (SwiftShader through ANGLE) unless NORMCHECK_BROWSER_GPU=hardware; WebGPU pages get --enable-unsafe-webgpu', () => {
    expect(chromiumArgs('webgl', {})).toContain('--disable-gpu');
    expect(chromiumArgs('webgl', { NORMCHECK_BROWSER_GPU: 'hardware' })).not.toContain('--disable-gpu');
    expect(chromiumArgs('webgpu', {})).toContain('--enable-unsafe-webgpu');
    expect(chromiumArgs('webgpu', {})).not.toContain('--disable-gpu');
  });
});
