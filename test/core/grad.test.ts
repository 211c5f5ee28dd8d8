// Finite-difference gradient checks (float64, js backend) for every differentiable op.
import { test } from 'node:test';
import { jsBackend } from '../../src/backends/js/index.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import * as ops from '../../src/ops/index.js';
import { gradcheck, rand } from './gradcheck.js';

const g = (shape: number[], seed: number, lo = -1, hi = 1) => ({ data: rand(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape });
const ints = (data: number[], shape = [data.length]): Tensor => tensor(Int32Array.from(data), shape, 'int32', jsBackend);
const f64 = (data: Float64Array, shape: number[]): Tensor => tensor(data, shape, 'float64', jsBackend);

test('add, sub, mul, affine, neg', () => {
  gradcheck('add', ([a, b]) => ops.add(a, b), [g([3, 4], 1), g([3, 4], 2)]);
  gradcheck('sub', ([a, b]) => ops.sub(a, b), [g([5], 1), g([5], 2)]);
  gradcheck('mul', ([a, b]) => ops.mul(a, b), [g([3, 4], 3), g([3, 4], 4)]);
  gradcheck('mul same input twice', ([a]) => ops.mul(a, a), [g([7], 5)]);
  gradcheck('affine', ([a]) => ops.affine(a, -2.5, 0.75), [g([2, 3], 6)]);
  gradcheck('neg', ([a]) => ops.neg(a), [g([4], 6)]);
});

test('unary: exp, log, silu, sigmoid, logSigmoid', () => {
  gradcheck('exp', ([a]) => ops.exp(a), [g([6], 7)]);
  gradcheck('log', ([a]) => ops.log(a), [g([6], 8, 0.5, 2)]);
  gradcheck('silu', ([a]) => ops.silu(a), [g([6], 9, -4, 4)]);
  gradcheck('sigmoid', ([a]) => ops.sigmoid(a), [g([6], 10, -4, 4)]);
  gradcheck('logSigmoid', ([a]) => ops.logSigmoid(a), [g([6], 11, -6, 6)]);
});

test('sum and mean over all and over each axis', () => {
  gradcheck('sum all', ([a]) => ops.sum(a), [g([2, 3, 4], 12)]);
  for (const axis of [0, 1, 2, -1]) gradcheck(`sum axis ${axis}`, ([a]) => ops.sum(a, axis), [g([2, 3, 4], 13)]);
  gradcheck('mean axis 1', ([a]) => ops.mean(a, 1), [g([2, 3, 4], 14)]);
  gradcheck('mean all', ([a]) => ops.mean(a), [g([5], 14)]);
});

test('matmul in all four transpose cases, and linear', () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const aShape = ta ? [4, 3] : [3, 4];
    const bShape = tb ? [5, 4] : [4, 5];
    gradcheck(`matmul ta=${ta} tb=${tb}`, ([a, b]) => ops.matmul(a, b, ta, tb), [g(aShape, 15), g(bShape, 16)]);
  }
  gradcheck('linear', ([x, w]) => ops.linear(x, w), [g([2, 3, 4], 17), g([5, 4], 18)]);
});

test('reshape, permute, transpose, slice, concat', () => {
  gradcheck('reshape', ([a]) => ops.mul(a.reshape([3, 2, 2]), a.reshape([3, 4]).reshape([3, 2, 2])), [g([12], 19)]);
  gradcheck('permute', ([a]) => ops.permute(a, [2, 0, 1]), [g([2, 3, 4], 20)]);
  gradcheck('transpose', ([a]) => ops.transpose(a, 1, 2), [g([2, 3, 4], 21)]);
  gradcheck('slice', ([a]) => ops.slice(a, 1, 1, 2), [g([2, 4, 3], 22)]);
  gradcheck('concat', ([a, b]) => ops.concat([a, b, a], 1), [g([2, 2, 3], 23), g([2, 1, 3], 24)]);
});

test('embedding', () => {
  const ids = ints([3, 0, 3, 1], [2, 2]);
  gradcheck('embedding', ([w]) => ops.embedding(ids, w), [g([5, 3], 25)]);
});

test('rmsNorm (input and weight)', () => {
  gradcheck('rmsNorm', ([x, w]) => ops.rmsNorm(x, w, 1e-5), [g([3, 5], 26), g([5], 27, 0.5, 1.5)]);
});

test('rope: interleaved and rotate-half, with a position offset', () => {
  const { cos, sin } = ops.ropeTables(4, 16, 10000);
  const c = f64(Float64Array.from(cos), [16, 2]);
  const s = f64(Float64Array.from(sin), [16, 2]);
  for (const interleaved of [true, false]) {
    gradcheck(`rope interleaved=${interleaved}`, ([x]) => ops.rope(x, c, s, 3, interleaved), [g([2, 3, 2, 4], 28)]);
  }
});

test('attention: causal GQA, MHA, and a KV prefix', () => {
  // q heads 4 over kv heads 2 (GQA), Tq = Tk
  gradcheck('attention GQA', ([q, k, v]) => ops.attention(q, k, v), [g([2, 3, 4, 4], 29), g([2, 3, 2, 4], 30), g([2, 3, 2, 4], 31)]);
  gradcheck('attention MHA', ([q, k, v]) => ops.attention(q, k, v), [g([1, 4, 2, 3], 32), g([1, 4, 2, 3], 33), g([1, 4, 2, 3], 34)]);
  // decoding: 2 queries attend over a 5-slot cache of which 4 are filled
  gradcheck('attention prefix', ([q, k, v]) => ops.attention(q, k, v, 4), [g([1, 2, 4, 4], 35), g([1, 5, 1, 4], 36), g([1, 5, 1, 4], 37)]);
});

test('swiglu, softmax, logSoftmax', () => {
  gradcheck('swiglu', ([a, b]) => ops.swiglu(a, b), [g([3, 4], 38, -3, 3), g([3, 4], 39)]);
  gradcheck('softmax', ([a]) => ops.softmax(a), [g([3, 5], 40, -3, 3)]);
  gradcheck('logSoftmax', ([a]) => ops.logSoftmax(a), [g([3, 5], 41, -3, 3)]);
});

test('logprobGather and crossEntropy with ignore index and loss mask', () => {
  const targets = ints([1, -100, 4, 0, 2, 2], [2, 3]);
  gradcheck('logprobGather', ([l]) => ops.logprobGather(l, targets), [g([2, 3, 5], 42, -3, 3)]);
  gradcheck('crossEntropy', ([l]) => ops.crossEntropy(l, targets), [g([2, 3, 5], 43, -3, 3)]);
  const mask = Float32Array.from([1, 1, 0.5, 0, 1, 2]);
  gradcheck('crossEntropy masked', ([l]) => ops.crossEntropy(l, targets, { mask }), [g([2, 3, 5], 44, -3, 3)]);
});

test('MoE routing: topk + gather, indexSelect, indexAdd, rowScale', () => {
  gradcheck('topk then gather', ([s]) => {
    const { indices } = ops.topk(s, 2);
    return ops.gather(ops.softmax(s), indices);
  }, [g([4, 5], 45, -2, 2)]);
  const rows = ints([2, 0, 2]);
  gradcheck('indexSelect', ([x]) => ops.indexSelect(x, rows), [g([3, 4], 46)]);
  gradcheck('indexAdd', ([b, s]) => ops.indexAdd(b, rows, s), [g([3, 4], 47), g([3, 4], 48)]);
  gradcheck('rowScale', ([x, w]) => ops.rowScale(x, w), [g([3, 4], 49), g([3], 50)]);
});
