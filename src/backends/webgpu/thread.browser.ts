// The WebGPU device thread in a page: a Web Worker running the page's webgpu-worker.js (worker.ts
// bundled with host.browser.ts). The backend blocks in Atomics.wait for reads, which a page allows
// in a worker only and with SharedArrayBuffer only (a cross-origin isolated page: COOP + COEP).
// Two things must happen before the caller first blocks: the nested worker must have loaded, and it
// must hold a MessagePort of ours (Chromium delivers a worker's postMessage to its nested worker
// only when the sender's event loop runs, but a MessagePort's messages at once). So: await
// prestartThread() first.
import type { DeviceThread } from './thread.js';

let port: MessagePort | null = null;
let dead: string | null = null;

/** Loads the device worker and hands it our port; resolves once it listens. */
export function prestartThread(url: URL = new URL('./webgpu-worker.js', import.meta.url)): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { type: 'module' });
    const channel = new MessageChannel();
    w.onerror = (e) => {
      dead = e.message || 'the WebGPU worker failed to load';
      reject(new Error(dead));
    };
    channel.port1.onmessage = (e) => {
      if (e.data === 'listening') {
        port = channel.port1;
        resolve();
      }
    };
    w.postMessage({ port: channel.port2 }, [channel.port2]);
  });
}

export function startThread(sab: SharedArrayBuffer): DeviceThread {
  if (!port) throw new Error('the WebGPU worker was not started (prestartThread)');
  const p = port;
  p.postMessage({ start: { sab } });
  return { post: (m) => p.postMessage(m), failed: () => dead };
}
