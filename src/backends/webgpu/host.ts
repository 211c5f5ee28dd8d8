// What worker.ts needs from the thread it runs in. In Node: worker_threads and Dawn (the `webgpu`
// package); the page bundle puts host.browser.ts in its place (the tab's navigator.gpu).
import { parentPort, workerData } from 'node:worker_threads';

export interface StartData { sab: SharedArrayBuffer; powerPreference?: GPUPowerPreference }

export const startData = async (): Promise<StartData> => workerData as StartData;

export function onMessage(fn: (message: unknown) => void): void {
  parentPort!.on('message', fn);
}

/** Dawn's GPU object; its globals (GPUBufferUsage, ...) are installed on globalThis. */
export async function gpu(): Promise<GPU> {
  let mod: { create: (o: string[]) => GPU; globals: object };
  try {
    mod = await import('webgpu' as string);
  } catch (e) {
    throw new Error(`the 'webgpu' package (Dawn) is not installed or has no binary for ${process.platform}-${process.arch} (${(e as Error).message.split('\n')[0]}); run \`npm install webgpu\``);
  }
  Object.assign(globalThis, mod.globals);
  return mod.create([]);
}
