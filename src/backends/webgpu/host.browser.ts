// worker.ts's thread in a page: a Web Worker that gets a MessagePort from the backend
// (thread.browser.ts says why a port), whose first message carries the start data; the GPU is the
// tab's own WebGPU (navigator.gpu).
import type { StartData } from './host.js';

let handler: ((message: unknown) => void) | null = null;
let started: (d: StartData) => void;
const start = new Promise<StartData>((resolve) => (started = resolve));

self.onmessage = (e: MessageEvent) => {
  const port = (e.data as { port?: MessagePort }).port;
  if (!port) return;
  port.onmessage = (m: MessageEvent) => {
    const data = m.data as { start?: StartData };
    if (data && data.start) started(data.start);
    else handler?.(data);
  };
  port.postMessage('listening');
};

export const startData = (): Promise<StartData> => start;

export function onMessage(fn: (message: unknown) => void): void {
  handler = fn;
}

export async function gpu(): Promise<GPU> {
  const g = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!g) throw new Error('this browser gives the page no WebGPU (navigator.gpu is missing)');
  return g;
}
