// Finite-difference gradient check in float64 on the js backend: the one helper every op's
// backward is tested with (as tinygrad and llama.cpp do). The op's output is reduced with fixed
// random weights so every output element's gradient path is exercised.
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import * as ops from '../../src/ops/index.js';

export function rand(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

export interface GradInput {
  data: Float64Array;
  shape: number[];
}

/**
 * Checks d(sum(f(inputs) * w))/d(input) against central differences for every element of every
 * input. Max relative error (|a-n| / max(1, |a|, |n|)) must stay below tol.
 */
export function gradcheck(name: string, f: (xs: Tensor[]) => Tensor, inputs: GradInput[], tol = 1e-6): void {
  const lossOf = (datas: Float64Array[], withGrad: boolean): { loss: number; grads: Float64Array[] } =>
    scope(() => {
      const xs = datas.map((d, i) => {
        const t = tensor(d, inputs[i].shape, 'float64', jsBackend);
        t.requiresGrad = withGrad;
        return t;
      });
      const y = f(xs);
      const w = tensor(rand(y.size, 99), y.shape, 'float64', jsBackend);
      const loss = ops.sum(ops.mul(y, w));
      const value = loss.item();
      let grads: Float64Array[] = [];
      if (withGrad) {
        loss.backward();
        grads = xs.map((x) => (x.grad ? (x.grad.toArray() as Float64Array) : new Float64Array(x.size)));
        xs.forEach((x) => x.grad?.dispose());
      }
      return { loss: value, grads };
    });

  const base = inputs.map((i) => Float64Array.from(i.data));
  const { grads } = lossOf(base, true);
  const h = 1e-6;
  let worst = 0;
  let where = '';
  inputs.forEach((inp, k) => {
    for (let e = 0; e < inp.data.length; e++) {
      const plus = base.map((d) => Float64Array.from(d));
      const minus = base.map((d) => Float64Array.from(d));
      plus[k][e] += h;
      minus[k][e] -= h;
      const num = (lossOf(plus, false).loss - lossOf(minus, false).loss) / (2 * h);
      const ana = grads[k][e];
      const err = Math.abs(ana - num) / Math.max(1, Math.abs(ana), Math.abs(num));
      if (err > worst) { worst = err; where = `input ${k} element ${e}: analytic ${ana}, numeric ${num}`; }
    }
  });
  assert.ok(worst < tol, `${name}: gradient mismatch ${worst.toExponential(2)} at ${where}`);
}
