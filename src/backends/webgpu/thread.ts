// The thread the WebGPU device lives in, as index.ts sees it. In Node: a worker_threads Worker
// running worker.ts. The page bundle puts thread.browser.ts in its place (a Web Worker).
import { Worker } from 'node:worker_threads';

export interface DeviceThread {
  post(message: unknown): void;
  /** Why the thread stopped, or null while it runs. */
  failed(): string | null;
}

/** Starts worker.ts; it answers its adapter summary (or an error) in `sab`. */
export function startThread(sab: SharedArrayBuffer): DeviceThread {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { sab } });
  worker.unref();
  let dead: string | null = null;
  worker.on('error', (e) => { dead = e.message; });
  return { post: (m) => worker.postMessage(m), failed: () => dead };
}
