// Shared by the backend-vs-js kernel tests: seeded random inputs and an elementwise comparison
// that names the first bad element.
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import type { Backend, Buf } from '../../src/backends/backend.js';

/** Seeded uniform inputs: rand(n, scale) in [-scale, scale), randInt(n, hi) in [0, hi). */
export function seededInputs(seed: number): { rand: (n: number, scale?: number) => Float32Array; randInt: (n: number, hi: number) => Int32Array } {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 4294967296;
  };
  return {
    rand(n, scale = 1) {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = (rnd() * 2 - 1) * scale;
      return a;
    },
    randInt(n, hi) {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = Math.floor(rnd() * hi);
      return a;
    },
  };
}

/** Relative L2 error ||got - want|| / ||want||. */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) { num += (got[i] - want[i]) ** 2; den += want[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** Elementwise |got - want| <= tol * (|want| + mean|want|), with a message that says where. */
export function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 2e-5): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let meanAbs = 0;
  for (let i = 0; i < want.length; i++) meanAbs += Math.abs(want[i]);
  meanAbs = want.length ? meanAbs / want.length : 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (Math.abs(want[i]) + meanAbs) + 1e-30)) assert.fail(`${what}: element ${i} is ${got[i]}, js gives ${want[i]} (error ${err.toExponential(2)})`);
  }
}

/** Every combination of accumulate flags for a backward kernel with `outputs` gradient outputs. */
export function accModes(outputs: number): boolean[][] {
  if (outputs === 3) return [[true, true, true], [false, false, false], [false, true, false], [true, false, true], [true, true, false]];
  return outputs === 1 ? [[true], [false]] : [[true, true], [false, false], [true, false], [false, true]];
}

/** 'add' / 'write' per gradient output, for test names. */
export function modeName(acc: readonly boolean[]): string {
  return acc.map((a) => (a ? 'add' : 'write')).join('/');
}

/**
 * The buffers as a backward kernel in mode `acc` should see them: gradient outputs (`outs`, in the
 * flags' order) that it overwrites are filled with NaN, so a kernel that reads one, or leaves an
 * element unwritten, produces NaN and fails the comparison; accumulated ones keep their values.
 */
export function gradInit<T extends Record<string, Float32Array | Int32Array>>(bufs: T, outs: readonly string[], acc: readonly boolean[]): T {
  const r: Record<string, Float32Array | Int32Array> = { ...bufs };
  outs.forEach((k, i) => {
    if (!acc[i]) r[k] = new Float32Array(bufs[k].length).fill(NaN);
  });
  return r as T;
}

/**
 * A `both(what, bufs, outs, fn, tol)` for `backend`: runs fn on the js backend (host copies) and on
 * `backend` (uploaded copies), compares the buffers named in `outs` and checks that the others
 * (the inputs) were left untouched.
 */
export function versusJs(backend: Backend): (what: string, bufs: Record<string, Float32Array | Int32Array>, outs: string[], fn: (b: Backend, x: Record<string, any>) => void, tol?: number) => void {
  return (what, bufs, outs, fn, tol) => {
    const host: Record<string, any> = {};
    const dev: Record<string, Buf> = {};
    for (const [k, v] of Object.entries(bufs)) {
      host[k] = v.slice();
      dev[k] = backend.upload(v);
    }
    fn(jsBackend, host);
    fn(backend, dev);
    try {
      for (const k of outs) close(backend.download(dev[k]), host[k], `${what} [${k}]`, tol);
      for (const k of Object.keys(bufs)) if (!outs.includes(k)) close(backend.download(dev[k]), bufs[k], `${what} [input ${k} modified]`, 0);
    } finally {
      for (const b of Object.values(dev)) backend.free(b);
    }
  };
}
