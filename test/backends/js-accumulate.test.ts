// The js backend is the reference the native and CUDA kernels are compared with, in both
// accumulate modes; this checks the reference itself: overwriting a gradient output (which starts
// as NaN, so a read or a skipped element shows) gives exactly what accumulating into zeros gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend as js } from '../../src/backends/js/index.js';
import { seededInputs } from './kernel-helpers.js';

const { rand, randInt } = seededInputs(7);
const N = 6, C = 10, n = N * C;

// each case: gradient outputs' sizes, and a call with one flag per output
const cases: Record<string, { outs: number[]; run: (o: Float32Array[], acc: boolean[]) => void }> = {};
const x = rand(n, 3), d = rand(n), w = rand(C), wr = rand(N), sm = new Float32Array(n), lsm = new Float32Array(n), rstd = new Float32Array(N);
js.softmaxForward(sm, x, N, C);
js.logSoftmaxForward(lsm, x, N, C);
js.rmsnormForward(new Float32Array(n), rstd, x, w, N, C, 1e-5);
const targets = randInt(N, C);
targets[2] = -100;
const lp = new Float32Array(N), lse = new Float32Array(N);
js.logprobGatherForward(lp, lse, x, targets, N, C, -100);
const cos = rand(4 * 2), sin = rand(4 * 2); // D = 4, maxPos 4
for (const op of ['exp', 'log', 'silu', 'sigmoid', 'logsigmoid'] as const) {
  const xin = op === 'log' ? x.map((v) => Math.abs(v) + 0.1) : x;
  const out = new Float32Array(n);
  js.unaryForward(op, out, xin, n);
  cases[`unary ${op}`] = { outs: [n], run: (o, a) => js.unaryBackward(op, o[0], d, xin, out, n, a[0]) };
}
const up = rand(n);
cases.swiglu = { outs: [n, n], run: (o, a) => js.swigluBackward(o[0], o[1], d, x, up, n, a[0], a[1]) };
cases.rowScale = { outs: [n, N], run: (o, a) => js.rowScaleBackward(o[0], o[1], d, x, wr, N, C, a[0], a[1]) };
cases.sumAxis = { outs: [2 * 3 * 5], run: (o, a) => js.sumAxisBackward(o[0], d.subarray(0, 2 * 5), 2, 3, 5, a[0]) };
cases.rmsnorm = { outs: [n, C], run: (o, a) => js.rmsnormBackward(o[0], o[1], d, x, w, rstd, N, C, a[0], a[1]) };
for (const il of [false, true]) cases[`rope interleaved=${il}`] = { outs: [2 * 3 * 2 * 4], run: (o, a) => js.ropeBackward(o[0], d.subarray(0, 48), cos, sin, 2, 3, 2, 4, 1, il, a[0]) };
cases.softmax = { outs: [n], run: (o, a) => js.softmaxBackward(o[0], d, sm, N, C, a[0]) };
cases.logSoftmax = { outs: [n], run: (o, a) => js.logSoftmaxBackward(o[0], d, lsm, N, C, a[0]) };
cases.logprobGather = { outs: [n], run: (o, a) => js.logprobGatherBackward(o[0], d.subarray(0, N), x, lse, targets, N, C, -100, a[0]) };

for (const [name, c] of Object.entries(cases)) {
  test(`js ${name} backward: overwriting = accumulating into zeros, per output`, () => {
    const added = c.outs.map((k) => new Float32Array(k));
    c.run(added, c.outs.map(() => true));
    assert.ok(added.some((a) => a.some((v) => v !== 0)), 'the case computes something');
    for (let which = 0; which < c.outs.length; which++) {
      // output `which` overwritten (NaN before), the others accumulated into zeros
      const o = c.outs.map((k, i) => new Float32Array(k).fill(i === which ? NaN : 0));
      c.run(o, c.outs.map((_, i) => i !== which));
      o.forEach((got, i) => assert.deepEqual(got, added[i], `output ${i} with output ${which} overwritten`));
    }
  });
}
