// Which backend new tensors live on. The native CPU backend becomes the default wherever it built
// (src/backends/cpu); otherwise the js backend. Tests pick one explicitly with setBackend.
import type { Backend } from '../backends/backend.js';
import { jsBackend } from '../backends/js/index.js';

let current: Backend = jsBackend;

export function getBackend(): Backend {
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
}

/** Runs fn with another backend as the default, then restores the previous one. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const prev = current;
  current = backend;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
