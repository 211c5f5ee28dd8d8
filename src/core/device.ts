// Which backend new tensors live on. The default is the native CPU backend wherever its addon
// built (src/backends/cpu), else the js backend with a one-line warning; MINIMIND_BACKEND=js
// forces the js backend. Tests pick one explicitly with setBackend.
import type { Backend } from '../backends/backend.js';
import { jsBackend } from '../backends/js/index.js';
import { loadCpuBackend, cpuLoadError, loadCudaBackend, cudaLoadError, loadWebgpuBackend, webgpuLoadError, probeAdapter } from '../backends/loaders.js';
import { process } from '../io/process.js';

let current: Backend | null = null;

function defaultBackend(): Backend {
  if (process.env.MINIMIND_BACKEND === 'js') return jsBackend;
  const cpu = loadCpuBackend();
  if (cpu) return cpu;
  process.stderr.write(`minimind: the native CPU backend is unavailable (${cpuLoadError() ?? 'not built'}); using the much slower js backend\n`);
  return jsBackend;
}

export function getBackend(): Backend {
  if (!current) current = defaultBackend();
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
}

/** Runs fn with another backend as the default, then restores the previous one. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const prev = getBackend();
  current = backend;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

export type DeviceName = 'cpu' | 'cuda' | 'webgpu' | 'auto';

/** Thrown when a device is asked for that this machine or build cannot give (a user error). */
export class DeviceError extends Error {}

/**
 * The backend for a `--device` value: 'cpu' = the native CPU backend (js where it did not build),
 * 'cuda' = the CUDA backend or a DeviceError saying why not, 'webgpu' = the WebGPU backend (any
 * Metal, Vulkan or D3D12 GPU through Dawn) or a DeviceError, 'auto' = CUDA where a usable GPU is
 * present, else WebGPU on a hardware adapter (a software one, such as lavapipe or SwiftShader, is
 * slower than the CPU backend), else CPU; auto says on stderr which GPU it took. Makes it the default
 * for new tensors and returns it.
 */
export function useDevice(device: DeviceName | string): Backend {
  let backend: Backend;
  if (device === 'cpu') backend = defaultBackend();
  else if (device === 'cuda') {
    const cuda = loadCudaBackend();
    if (!cuda) throw new DeviceError(`--device cuda: ${cudaLoadError() ?? 'no usable GPU'}; use --device cpu`);
    backend = cuda;
  } else if (device === 'webgpu') {
    const webgpu = loadWebgpuBackend();
    if (!webgpu) throw new DeviceError(`--device webgpu: ${webgpuLoadError() ?? 'no WebGPU adapter'}; use --device cpu`);
    backend = webgpu;
  } else if (device === 'auto') backend = autoBackend();
  else throw new DeviceError(`--device must be cpu, cuda, webgpu or auto, got '${device}'`);
  current = backend;
  return backend;
}

function autoBackend(): Backend {
  const cuda = loadCudaBackend();
  if (cuda) {
    process.stderr.write(`minimind: --device auto: cuda (${cuda.deviceName})\n`);
    return cuda;
  }
  // the adapter is probed in a child process first: a software one (lavapipe, SwiftShader) is slower
  // than the CPU backend, and the CPU is the quiet default
  const probe = probeAdapter();
  if ('description' in probe && !probe.software) {
    const webgpu = loadWebgpuBackend();
    if (webgpu) {
      process.stderr.write(`minimind: --device auto: webgpu (${webgpu.adapter.description})\n`);
      return webgpu;
    }
  }
  return defaultBackend();
}
