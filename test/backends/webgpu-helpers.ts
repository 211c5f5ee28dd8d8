// The WebGPU backend for tests: on a machine with an adapter (CI: Mesa's lavapipe, installed by
// .ci/run) every WebGPU test runs; elsewhere they skip saying why, except under
// MINIMIND_CI_STRICT=1, where a missing adapter fails them (CI must test this backend).
import assert from 'node:assert/strict';
import { loadWebgpuBackend, webgpuLoadError, type WebgpuBackend } from '../../src/backends/webgpu/index.js';

export const webgpu = loadWebgpuBackend();
export const webgpuSkip: string | false = webgpu !== null || process.env.MINIMIND_CI_STRICT === '1' ? false : `no WebGPU adapter: ${webgpuLoadError()}`;

/** The backend, or a failure naming why it could not start (strict CI only reaches this without one). */
export function requireWebgpu(): WebgpuBackend {
  assert.ok(webgpu, `the WebGPU backend did not start: ${webgpuLoadError()}`);
  return webgpu;
}
