// The backends a page can start besides js: none of Node's native addons.
import type { Backend } from './backend.js';
import type { CpuBackend } from './cpu/index.js';
import type { CudaBackend } from './cuda/index.js';
import type { WebgpuBackend } from './webgpu/index.js';

const inPage = 'not available in a web page';
export const loadCpuBackend = (): CpuBackend | null => null;
export const cpuLoadError = (): string | null => inPage;
export const loadCudaBackend = (): CudaBackend | null => null;
export const cudaLoadError = (): string | null => inPage;
export const loadWebgpuBackend = (): WebgpuBackend | null => null;
export const webgpuLoadError = (): string | null => 'the page starts its WebGPU backend itself (src/web/worker.ts)';
export const probeAdapter = (): { error: string } => ({ error: inPage });
export type { Backend };
