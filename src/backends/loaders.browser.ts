// The backends a page can start besides js: none of Node's native addons; WebGPU through the tab's
// navigator.gpu (webgpu/thread.browser.ts: the page's worker awaits prestartThread() first).
import type { CpuBackend } from './cpu/index.js';
import type { CudaBackend } from './cuda/index.js';

const inPage = 'not available in a web page';
export const loadCpuBackend = (): CpuBackend | null => null;
export const cpuLoadError = (): string | null => inPage;
export const loadCudaBackend = (): CudaBackend | null => null;
export const cudaLoadError = (): string | null => inPage;
export { loadWebgpuBackend, webgpuLoadError } from './webgpu/index.js';
export { probeAdapter } from './webgpu/adapter.js';
