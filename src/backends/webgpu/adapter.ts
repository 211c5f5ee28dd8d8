// What the machine's WebGPU adapter is, without starting the backend: Dawn run in a child process
// (so that its adapter discovery, which may print driver warnings on stderr, stays out of this
// process's output). `--device auto` asks this before it starts the backend.
// The child is src/cli/webgpu-probe.ts, which prints the adapter summary as JSON, or {"error": ...}.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { describeAdapter, type AdapterInfo } from './describe.js';
import type { AdapterInfo } from './describe.js';

let probed: AdapterInfo | { error: string } | undefined;

/** The adapter Dawn would give, or the reason there is none; the first call takes a fraction of a second. */
export function probeAdapter(): AdapterInfo | { error: string } {
  return (probed ??= probe());
}

function probe(): AdapterInfo | { error: string } {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../cli/webgpu-probe.js', import.meta.url))], { encoding: 'utf8', timeout: 30_000 });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as AdapterInfo | { error: string };
  } catch {
    return { error: `the WebGPU probe failed (${r.error?.message ?? `exit ${r.status}`})` };
  }
}
