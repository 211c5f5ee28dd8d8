// What the data-parallel tests share: a free port for a rendezvous, the CLI run to its end, and the
// check that two runs' saved models hold the same weights.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadModelFolder } from '../../src/formats/hf-folder.js';

const cli = 'dist/src/cli/main.js';

/** A port free right now (other engineers' tests share this machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** `minimind ARGS` to its end (or timeoutMs): its exit code and stderr. */
export function runCli(args: string[], timeoutMs = 120_000): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stderr: r.stderr };
}

/** Every weight of runA/model within `tol` of runB/model's; returns how many tensors moved from `init` (a model folder), when given. */
export function assertSameWeights(runA: string, runB: string, tol: number, init?: string): number {
  const wa = loadModelFolder(join(runA, 'model')).model.namedParameters();
  const wb = new Map(loadModelFolder(join(runB, 'model')).model.namedParameters());
  const w0 = init ? new Map(loadModelFolder(init).model.namedParameters()) : null;
  let moved = 0;
  for (const [name, t] of wa) {
    const x = t.toArray();
    const y = wb.get(name)!.toArray();
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= tol, `${name}[${i}]: ${x[i]} vs ${y[i]}`);
    if (w0 && Array.from(x).some((v, i) => v !== w0.get(name)!.toArray()[i])) moved++;
  }
  return moved;
}
