// The backends a process can start besides js: the native CPU addon, CUDA and WebGPU over Dawn in
// Node. The page bundle puts loaders.browser.ts in its place (no addons; the tab's own WebGPU).
export { loadCpuBackend, cpuLoadError } from './cpu/index.js';
export { loadCudaBackend, cudaLoadError } from './cuda/index.js';
export { loadWebgpuBackend, webgpuLoadError } from './webgpu/index.js';
export { probeAdapter } from './webgpu/adapter.js';
