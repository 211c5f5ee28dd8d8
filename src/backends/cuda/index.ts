// The CUDA backend: a thin TypeScript wrapper over the CUDA addon (build/Release/minimind_cuda.node,
// kernels built by nvcc where it is installed, cuBLASLt loaded at run time). Until it is built,
// loadCudaBackend() returns null and cudaLoadError() says why.
import type { Backend } from '../backend.js';

let loadError: string | null = 'the CUDA backend is not part of this build yet';

/** The CUDA backend, or null when it is not built or no usable GPU is present (see cudaLoadError). */
export function loadCudaBackend(): Backend | null {
  return null;
}

export function cudaLoadError(): string | null {
  return loadError;
}
