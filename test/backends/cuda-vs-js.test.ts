// The CUDA backend against the js backend (the definition), kernel by kernel, on seeded random
// inputs uploaded to the GPU: odd sizes, every transpose case, forward and backward, accumulate
// paths started from non-zero gradients, every supported attention head dim. fp32 tolerances are
// stated per kernel (as the CPU backend's); bf16 GEMMs are checked against the fp32 product within
// bf16 rounding. Needs a GPU and the built addon (`npm run test:cuda`); elsewhere every test here
// is skipped with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededInputs, close, accModes, modeName, gradInit } from './kernel-helpers.js';
import { jsBackend } from '../../src/backends/js/index.js';
import { loadCudaBackend, cudaLoadError } from '../../src/backends/cuda/index.js';
import type { Backend, Buf, FBuf, UnaryOp } from '../../src/backends/backend.js';
import { quantizeBf16 } from '../../src/nn/inference-weights.js';

const cuda = loadCudaBackend();
const skip = cuda === null ? `CUDA backend unavailable: ${cudaLoadError()}` : false;

const { rand, randInt } = seededInputs(4242);

/** Runs fn on js (host copies) and on CUDA (uploaded copies); compares `outs` and checks inputs are untouched. */
function both(what: string, bufs: Record<string, Float32Array | Int32Array>, outs: string[], fn: (b: Backend, x: Record<string, any>) => void, tol?: number): void {
  const host: Record<string, any> = {};
  const dev: Record<string, Buf> = {};
  for (const [k, v] of Object.entries(bufs)) {
    host[k] = v.slice();
    dev[k] = cuda!.upload(v);
  }
  fn(jsBackend, host);
  fn(cuda!, dev);
  try {
    for (const k of outs) close(cuda!.download(dev[k]), host[k], `${what} [${k}]`, tol);
    for (const k of Object.keys(bufs)) if (!outs.includes(k)) close(cuda!.download(dev[k]), bufs[k], `${what} [input ${k} modified]`, 0);
  } finally {
    for (const b of Object.values(dev)) cuda!.free(b);
  }
}

test('cuda vs js: elementwise, unary, swiglu, fill, copy, sumSquares, clipScale', { skip }, () => {
  for (const n of [1, 7, 33, 1000, 100003]) {
    const bufs = { out: rand(n), a: rand(n), b: rand(n) };
    both(`add n=${n}`, bufs, ['out'], (be, x) => be.add(x.out, x.a, x.b, n));
    both(`mul n=${n}`, bufs, ['out'], (be, x) => be.mul(x.out, x.a, x.b, n));
    both(`affine n=${n}`, bufs, ['out'], (be, x) => be.affine(x.out, x.a, 0.37, -1.5, n));
    both(`axpy n=${n}`, bufs, ['out'], (be, x) => be.axpy(x.out, x.a, -0.7, n));
    both(`sumSquares n=${n}`, { out: rand(1), a: rand(n) }, ['out'], (be, x) => be.sumSquares(x.out, x.a, n, false), 1e-5);
    both(`sumSquares accumulate n=${n}`, { out: rand(1), a: rand(n) }, ['out'], (be, x) => be.sumSquares(x.out, x.a, n, true), 1e-5);
    for (const norm of [0.5, 1e9]) {
      both(`clipScale n=${n} maxNorm=${norm}`, { x: rand(n), s: Float32Array.of(n / 3) }, ['x'], (be, x) => be.clipScale(x.x, x.s, norm, n), 1e-6);
    }
    for (const op of ['exp', 'log', 'silu', 'sigmoid', 'logsigmoid'] as UnaryOp[]) {
      const xin = op === 'log' ? rand(n).map((v) => Math.abs(v) + 0.05) : rand(n, 6);
      const fwd = new Float32Array(n);
      jsBackend.unaryForward(op, fwd, xin, n);
      both(`${op} forward n=${n}`, { out: rand(n), x: xin }, ['out'], (be, x) => be.unaryForward(op, x.out, x.x, n), 1e-5);
      const unaryBufs = { dx: rand(n), dout: rand(n), x: xin, out: fwd };
      for (const acc of accModes(1)) {
        both(`${op} backward n=${n} ${modeName(acc)}`, gradInit(unaryBufs, ['dx'], acc), ['dx'], (be, x) => be.unaryBackward(op, x.dx, x.dout, x.x, x.out, n, acc[0]), 1e-5);
      }
    }
    both(`swiglu forward n=${n}`, { out: rand(n), g: rand(n, 5), u: rand(n) }, ['out'], (be, x) => be.swigluForward(x.out, x.g, x.u, n), 1e-5);
    const swigluBufs = { dg: rand(n), du: rand(n), d: rand(n), g: rand(n, 5), u: rand(n) };
    for (const acc of accModes(2)) {
      both(`swiglu backward n=${n} ${modeName(acc)}`, gradInit(swigluBufs, ['dg', 'du'], acc), ['dg', 'du'], (be, x) => be.swigluBackward(x.dg, x.du, x.d, x.g, x.u, n, acc[0], acc[1]), 1e-5);
    }
    both(`fill n=${n}`, { out: rand(n + 3) }, ['out'], (be, x) => be.fill(x.out, 2.5, n), 0);
    both(`fill int32 n=${n}`, { out: randInt(n + 3, 9) }, ['out'], (be, x) => be.fill(x.out, 7, n), 0);
    both(`copy n=${n}`, { out: rand(n + 3), x: rand(n) }, ['out'], (be, x) => be.copy(x.out, x.x, n), 0);
  }
});

test('cuda vs js: matmul fp32, every transpose case, accumulate', { skip }, () => {
  const shapes = [[1, 1, 1], [1, 5, 3], [4, 1, 9], [13, 33, 17], [25, 65, 300], [150, 97, 260], [2, 2000, 64], [64, 512, 1536]];
  for (const [M, N, K] of shapes) {
    for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
      both(`matmul M=${M} N=${N} K=${K} transA=${ta} transB=${tb} acc=${acc}`, { out: rand(M * N), a: rand(M * K), b: rand(K * N) }, ['out'], (be, x) =>
        be.matmul(x.out, x.a, x.b, M, N, K, ta, tb, acc), 1e-4);
    }
  }
  both('matmul K=0', { out: rand(6), a: rand(1), b: rand(1) }, ['out'], (be, x) => be.matmul(x.out, x.a, x.b, 2, 3, 0, false, false, false), 0);
});

test('cuda: bf16 matmul within bf16 rounding of the fp32 product (relative Frobenius error < 1e-2), every transpose case', { skip }, () => {
  const be = cuda!;
  be.setMatmulPrecision('bf16');
  try {
    for (const [M, N, K] of [[7, 9, 5], [64, 512, 1536], [300, 129, 77]]) {
      for (const ta of [false, true]) for (const tb of [false, true]) {
        const a = rand(M * K), b = rand(K * N);
        const want = new Float32Array(M * N);
        jsBackend.matmul(want, a, b, M, N, K, ta, tb, false);
        const da = be.upload(a) as FBuf, db = be.upload(b) as FBuf, dout = be.upload(rand(M * N)) as FBuf;
        be.matmul(dout, da, db, M, N, K, ta, tb, false);
        const got = be.download(dout);
        let num = 0, den = 0;
        for (let i = 0; i < want.length; i++) { num += (got[i] - want[i]) ** 2; den += want[i] ** 2; }
        const rel = Math.sqrt(num / den);
        assert.ok(rel < 1e-2 && rel > 1e-5, `bf16 matmul ${M}x${N}x${K} ta=${ta} tb=${tb}: relative error ${rel.toExponential(2)} (expected bf16 rounding, 1e-5..1e-2)`);
        for (const t of [da, db, dout]) be.free(t);
      }
    }
  } finally {
    be.setMatmulPrecision('fp32');
  }
});

test('cuda vs js: rows (embedding, rowScale, topk, gather)', { skip }, () => {
  for (const [N, C, V] of [[1, 1, 1], [5, 7, 3], [64, 33, 10], [300, 64, 50]]) {
    const ids = randInt(N, V);
    both(`embedding forward N=${N} C=${C}`, { out: rand(N * C), ids, w: rand(V * C) }, ['out'], (be, x) => be.embeddingForward(x.out, x.ids, x.w, N, C));
    both(`embedding backward N=${N} C=${C}`, { dw: rand(V * C), d: rand(N * C), ids }, ['dw'], (be, x) => be.embeddingBackward(x.dw, x.d, x.ids, N, C), 1e-5);
    both(`rowScale forward N=${N} C=${C}`, { out: rand(N * C), x: rand(N * C), w: rand(N) }, ['out'], (be, x) => be.rowScaleForward(x.out, x.x, x.w, N, C));
    const rowScaleBufs = { dx: rand(N * C), dw: rand(N), d: rand(N * C), x: rand(N * C), w: rand(N) };
    for (const acc of accModes(2)) {
      both(`rowScale backward N=${N} C=${C} ${modeName(acc)}`, gradInit(rowScaleBufs, ['dx', 'dw'], acc), ['dx', 'dw'], (be, x) => be.rowScaleBackward(x.dx, x.dw, x.d, x.x, x.w, N, C, acc[0], acc[1]), 1e-5);
    }
    for (const k of [1, Math.min(2, C), C]) {
      const xq = rand(N * C).map((v) => Math.round(v * 3) / 3);  // ties are common
      both(`topk N=${N} C=${C} k=${k}`, { v: rand(N * k), i: randInt(N * k, 5), x: xq }, ['v', 'i'], (be, x) => be.topk(x.v, x.i, x.x, N, C, k), 0);
      const idx = randInt(N * k, C);
      both(`gather forward N=${N} C=${C} k=${k}`, { out: rand(N * k), x: rand(N * C), idx }, ['out'], (be, x) => be.gatherForward(x.out, x.x, x.idx, N, C, k));
      both(`gather backward N=${N} C=${C} k=${k}`, { dx: rand(N * C), d: rand(N * k), idx }, ['dx'], (be, x) => be.gatherBackward(x.dx, x.d, x.idx, N, C, k), 1e-5);
    }
  }
});

test('cuda vs js: shape (permute, slices, sumAxis), float32 and int32', { skip }, () => {
  const cases: [number[], number[]][] = [[[5], [0]], [[3, 4], [1, 0]], [[2, 3, 5], [2, 0, 1]], [[2, 7, 3, 4], [0, 2, 1, 3]], [[3, 1, 4, 2], [3, 2, 1, 0]], [[8, 64, 6, 5], [0, 2, 1, 3]]];
  for (const [shape, perm] of cases) {
    const n = shape.reduce((p, q) => p * q, 1);
    for (const acc of [false, true]) both(`permute [${shape}] by [${perm}] acc=${acc}`, { out: rand(n), x: rand(n) }, ['out'], (be, x) => be.permute(x.out, x.x, shape, perm, acc));
    both(`permute int32 [${shape}]`, { out: randInt(n, 100), x: randInt(n, 100) }, ['out'], (be, x) => be.permute(x.out, x.x, shape, perm, false), 0);
  }
  for (const [outer, dim, inner, start, len] of [[1, 1, 1, 0, 1], [3, 7, 5, 2, 4], [4, 10, 1, 9, 1], [64, 300, 3, 100, 200]]) {
    for (const acc of [false, true]) {
      both(`sliceCopy ${outer}x${dim}x${inner} [${start}+${len}] acc=${acc}`, { out: rand(outer * len * inner), x: rand(outer * dim * inner) }, ['out'], (be, x) => be.sliceCopy(x.out, x.x, outer, dim, inner, start, len, acc));
      both(`sliceScatter ${outer}x${dim}x${inner} [${start}+${len}] acc=${acc}`, { out: rand(outer * dim * inner), x: rand(outer * len * inner) }, ['out'], (be, x) => be.sliceScatter(x.out, x.x, outer, dim, inner, start, len, acc));
    }
    both(`sliceCopy int32 ${outer}x${dim}x${inner}`, { out: randInt(outer * len * inner, 9), x: randInt(outer * dim * inner, 9) }, ['out'], (be, x) => be.sliceCopy(x.out, x.x, outer, dim, inner, start, len, false), 0);
  }
  for (const [outer, dim, inner] of [[1, 1, 1], [1, 5, 1], [3, 4, 5], [1, 300, 70], [1, 100000, 1], [50, 30, 2]]) {
    both(`sumAxis ${outer}x${dim}x${inner}`, { out: rand(outer * inner), x: rand(outer * dim * inner) }, ['out'], (be, x) => be.sumAxis(x.out, x.x, outer, dim, inner), 1e-4);
    const sumAxisBackwardBufs = { dx: rand(outer * dim * inner), d: rand(outer * inner) };
    for (const acc of accModes(1)) {
      both(`sumAxisBackward ${outer}x${dim}x${inner} ${modeName(acc)}`, gradInit(sumAxisBackwardBufs, ['dx'], acc), ['dx'], (be, x) => be.sumAxisBackward(x.dx, x.d, outer, dim, inner, acc[0]));
    }
  }
});

test('cuda vs js: rmsnorm, rope (both layouts)', { skip }, () => {
  // C <= 256 takes the warp-per-row kernels (QK-norm's head_dim rows: 96), longer rows a block each
  for (const [N, C] of [[1, 1], [3, 7], [17, 64], [8195, 96], [33, 256], [300, 513], [4096, 768], [5, 1500]]) {
    const w = rand(C), x = rand(N * C, 3), rstd = new Float32Array(N);
    jsBackend.rmsnormForward(new Float32Array(N * C), rstd, x, w, N, C, 1e-5);
    both(`rmsnorm forward N=${N} C=${C}`, { out: rand(N * C), rstd: rand(N), x, w }, ['out', 'rstd'], (be, b) => be.rmsnormForward(b.out, b.rstd, b.x, b.w, N, C, 1e-5), 1e-5);
    const rmsnormBufs = { dx: rand(N * C), dw: rand(C), d: rand(N * C), x, w, rstd };
    // C = 1: dx is the float32 rounding left of a cancellation (x·rstd = ±1), so an overwritten dx
    // (no addend to compare against) is checked on rows of 7 and more only; dw is checked in both modes
    for (const acc of accModes(2).filter((m) => C > 1 || m[0])) {
      both(`rmsnorm backward N=${N} C=${C} ${modeName(acc)}`, gradInit(rmsnormBufs, ['dx', 'dw'], acc), ['dx', 'dw'], (be, b) => be.rmsnormBackward(b.dx, b.dw, b.d, b.x, b.w, b.rstd, N, C, acc[0], acc[1]), 1e-4);
    }
  }
  for (const [B, T, H, D] of [[1, 1, 1, 2], [2, 5, 3, 8], [2, 33, 4, 64], [1, 7, 2, 6], [3, 40, 8, 96]]) {
    for (const interleaved of [false, true]) for (const pos0 of [0, 3]) {
      const maxPos = pos0 + T + 2, cos = rand(maxPos * (D / 2)), sin = rand(maxPos * (D / 2)), n = B * T * H * D;
      const what = `rope B=${B} T=${T} H=${H} D=${D} interleaved=${interleaved} pos0=${pos0}`;
      both(`${what} forward`, { out: rand(n), x: rand(n), cos, sin }, ['out'], (be, b) => be.ropeForward(b.out, b.x, b.cos, b.sin, B, T, H, D, pos0, interleaved), 1e-5);
      const ropeBufs = { dx: rand(n), d: rand(n), cos, sin };
      for (const acc of accModes(1)) {
        both(`${what} backward ${modeName(acc)}`, gradInit(ropeBufs, ['dx'], acc), ['dx'], (be, b) => be.ropeBackward(b.dx, b.d, b.cos, b.sin, B, T, H, D, pos0, interleaved, acc[0]), 1e-5);
      }
    }
  }
});

test('cuda vs js: attention forward and backward (causal, GQA, KV cache), head dims 8..128', { skip }, () => {
  // [B, Tq, Tk, Tcap, H, KVH, D]
  const cases = [[1, 1, 1, 1, 1, 1, 8], [2, 5, 5, 7, 4, 2, 8], [1, 3, 9, 12, 4, 1, 16], [3, 1, 20, 24, 6, 3, 32], [2, 70, 70, 70, 4, 2, 32],
    [1, 130, 130, 131, 2, 2, 64], [1, 65, 129, 129, 3, 1, 48], [2, 40, 40, 40, 8, 2, 96], [1, 33, 50, 64, 4, 4, 128], [1, 1, 300, 512, 8, 2, 64], [2, 200, 200, 200, 8, 2, 80]];
  for (const [B, Tq, Tk, Tcap, H, KVH, D] of cases) {
    const scale = 1 / Math.sqrt(D), nq = B * Tq * H * D, nk = B * Tcap * KVH * D;
    const q = rand(nq, 2), k = rand(nk, 2), v = rand(nk);
    const out = new Float32Array(nq), lse = new Float32Array(B * H * Tq);
    jsBackend.attentionForward(out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale);
    const what = `attention B=${B} Tq=${Tq} Tk=${Tk} Tcap=${Tcap} H=${H} KVH=${KVH} D=${D}`;
    both(`${what} forward`, { out: rand(nq), lse: rand(B * H * Tq), q, k, v }, ['out', 'lse'], (be, b) => be.attentionForward(b.out, b.lse, b.q, b.k, b.v, B, Tq, Tk, Tcap, H, KVH, D, scale), 1e-4);
    const attnBufs = { dq: rand(nq), dk: rand(nk), dv: rand(nk), d: rand(nq), q, k, v, out, lse };
    // one key (Tk = 1): dq and dk are exactly 0 and the kernels leave float rounding of p (dp - delta): compared only against an addend
    for (const acc of accModes(3).filter((m) => Tk > 1 || (m[0] && m[1]))) {
      both(`${what} backward ${modeName(acc)}`, gradInit(attnBufs, ['dq', 'dk', 'dv'], acc), ['dq', 'dk', 'dv'], (be, b) =>
        be.attentionBackward(b.dq, b.dk, b.dv, b.d, b.q, b.k, b.v, b.out, b.lse, B, Tq, Tk, Tcap, H, KVH, D, scale, acc[0], acc[1], acc[2]), 1e-4);
    }
  }
  const u = (a: Float32Array): FBuf => cuda!.upload(a) as FBuf;
  assert.throws(() => cuda!.attentionForward(u(rand(5)), u(rand(1)), u(rand(5)), u(rand(5)), u(rand(5)), 1, 1, 1, 1, 1, 1, 5, 1), /head dims/);
});

test('cuda vs js: softmax, log-softmax, fused log-softmax + gather', { skip }, () => {
  for (const [N, C] of [[1, 1], [3, 7], [20, 101], [257, 640], [64, 6400]]) {
    const x = rand(N * C, 8), sm = new Float32Array(N * C), lsm = new Float32Array(N * C);
    jsBackend.softmaxForward(sm, x, N, C);
    jsBackend.logSoftmaxForward(lsm, x, N, C);
    both(`softmax forward ${N}x${C}`, { out: rand(N * C), x }, ['out'], (be, b) => be.softmaxForward(b.out, b.x, N, C), 1e-5);
    const softmaxBufs = { dx: rand(N * C), d: rand(N * C), o: sm };
    for (const acc of accModes(1)) {
      both(`softmax backward ${N}x${C} ${modeName(acc)}`, gradInit(softmaxBufs, ['dx'], acc), ['dx'], (be, b) => be.softmaxBackward(b.dx, b.d, b.o, N, C, acc[0]), 1e-4);
    }
    both(`logSoftmax forward ${N}x${C}`, { out: rand(N * C), x }, ['out'], (be, b) => be.logSoftmaxForward(b.out, b.x, N, C), 1e-5);
    const logSoftmaxBufs = { dx: rand(N * C), d: rand(N * C), o: lsm };
    for (const acc of accModes(1)) {
      both(`logSoftmax backward ${N}x${C} ${modeName(acc)}`, gradInit(logSoftmaxBufs, ['dx'], acc), ['dx'], (be, b) => be.logSoftmaxBackward(b.dx, b.d, b.o, N, C, acc[0]), 1e-4);
    }
    const targets = randInt(N, C);
    for (let i = 0; i < N; i += 3) targets[i] = -100;
    const lp = new Float32Array(N), lse = new Float32Array(N);
    jsBackend.logprobGatherForward(lp, lse, x, targets, N, C, -100);
    both(`logprobGather forward ${N}x${C}`, { out: rand(N), lse: rand(N), x, t: targets }, ['out', 'lse'], (be, b) => be.logprobGatherForward(b.out, b.lse, b.x, b.t, N, C, -100), 1e-5);
    const logprobGatherBufs = { dx: rand(N * C), d: rand(N), x, lse, t: targets };
    for (const acc of accModes(1)) {
      both(`logprobGather backward ${N}x${C} ${modeName(acc)}`, gradInit(logprobGatherBufs, ['dx'], acc), ['dx'], (be, b) => be.logprobGatherBackward(b.dx, b.d, b.x, b.lse, b.t, N, C, -100, acc[0]), 1e-4);
    }
  }
});

test('cuda vs js: adamw', { skip }, () => {
  for (const n of [1, 7, 1000, 70001]) for (const step of [1, 2, 50]) {
    const bufs = { p: rand(n), g: rand(n), m: rand(n, 0.1), v: rand(n, 0.01).map(Math.abs) };
    both(`adamw n=${n} step=${step}`, bufs, ['p', 'm', 'v'], (be, b) => be.adamwStep(b.p, b.g, b.m, b.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, null), 1e-5);
    // the guard is read on the device: finite changes nothing, non-finite skips the step (every buffer stays as it was)
    both(`adamw n=${n} step=${step} guard=1e30`, { ...bufs, s: Float32Array.of(1e30) }, ['p', 'm', 'v'], (be, b) =>
      be.adamwStep(b.p, b.g, b.m, b.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, b.s), 1e-5);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const guard = { js: Float32Array.of(bad), cuda: cuda!.upload(Float32Array.of(bad)) as FBuf };
      both(`adamw n=${n} step=${step} guard=${bad}`, bufs, [], (be, b) => be.adamwStep(b.p, b.g, b.m, b.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, be === jsBackend ? guard.js : guard.cuda));
      cuda!.free(guard.cuda);
    }
  }
});

test('cuda backend: caching allocator reuses blocks, a freed handle is refused, memory stats add up', { skip }, () => {
  const be = cuda!;
  const before = be.memoryStats().live;
  const a = be.alloc('float32', 1 << 20);
  assert.ok(be.memoryStats().live >= before + 4 * (1 << 20));
  be.free(a);
  assert.equal(be.memoryStats().live, before);
  const held = (): number => be.memoryStats().live + be.memoryStats().cached;
  const total = held();
  const b = be.alloc('float32', 1 << 20);
  // a cached block of this size is reused (a, or an older one that earlier tests freed): no new device memory
  assert.equal(held(), total, 'a freed block of the same size is reused');
  be.free(b);
  assert.throws(() => be.fill(b, 1, 4), /not a live CUDA buffer/);
});

test('cuda: tensor-core attention (bf16 precision) within bf16 rounding of the js attention, forward and backward', { skip }, () => {
  const be = cuda!;
  const rel = (got: ArrayLike<number>, want: ArrayLike<number>): number => {
    let num = 0, den = 0;
    for (let i = 0; i < want.length; i++) { num += (got[i] - want[i]) ** 2; den += want[i] ** 2; }
    return Math.sqrt(num / den);
  };
  be.setMatmulPrecision('bf16');
  try {
    // [B, Tq, Tk, Tcap, H, KVH, D]: v1-small / v1 / head dim 64 / minimind-3 (96) / 128 shapes, partial tiles, a KV cache, decode
    const cases = [[2, 512, 512, 512, 16, 8, 32], [1, 200, 200, 256, 16, 8, 48], [2, 77, 77, 77, 8, 2, 64], [1, 5, 40, 64, 4, 2, 16], [3, 1, 300, 512, 16, 8, 32],
      [2, 300, 300, 300, 8, 4, 96], [2, 1, 100, 128, 8, 4, 96], [1, 130, 130, 160, 4, 2, 128]];
    for (const [B, Tq, Tk, Tcap, H, KVH, D] of cases) {
      const scale = 1 / Math.sqrt(D), nq = B * Tq * H * D, nk = B * Tcap * KVH * D;
      const q = rand(nq, 2), k = rand(nk, 2), v = rand(nk), dout = rand(nq);
      const out = new Float32Array(nq), lse = new Float32Array(B * H * Tq);
      jsBackend.attentionForward(out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale);
      const dq = new Float32Array(nq), dk = new Float32Array(nk), dv = new Float32Array(nk);
      jsBackend.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, B, Tq, Tk, Tcap, H, KVH, D, scale, true, true, true);
      const u = (a: Float32Array): FBuf => be.upload(a) as FBuf;
      // the tensor-core kernels overwrite: gradients start as NaN, so an element left unwritten fails
      const nan = (n: number) => new Float32Array(n).fill(NaN);
      const [gq, gk, gv, gd, go, gl, gdq, gdk, gdv] = [u(q), u(k), u(v), u(dout), u(rand(nq)), u(rand(B * H * Tq)), u(nan(nq)), u(nan(nk)), u(nan(nk))];
      be.attentionForward(go, gl, gq, gk, gv, B, Tq, Tk, Tcap, H, KVH, D, scale);
      be.attentionBackward(gdq, gdk, gdv, gd, gq, gk, gv, go, gl, B, Tq, Tk, Tcap, H, KVH, D, scale, false, false, false);
      const what = `attention tc B=${B} Tq=${Tq} Tk=${Tk} H=${H} KVH=${KVH} D=${D}`;
      // bf16 operands: ~3e-3 relative on the output, a little more on gradients; above 1e-5 proves the bf16 path ran
      const checks: [string, FBuf, Float32Array, number][] = [['out', go, out, 1e-2], ['dq', gdq, dq, 3e-2], ['dk', gdk, dk, 3e-2], ['dv', gdv, dv, 3e-2]];
      for (const [name, buf, want, tol] of checks) {
        const e = rel(be.download(buf), want);
        console.log(`# ${what} ${name}: relative error ${e.toExponential(2)}`);
        assert.ok(e < tol && e > 1e-5, `${what} ${name}: relative error ${e.toExponential(2)} (want bf16 rounding: 1e-5..${tol})`);
      }
      const gotLse = be.download(gl);
      for (let i = 0; i < lse.length; i++) assert.ok(Math.abs(gotLse[i] - lse[i]) < 2e-2 * Math.max(1, Math.abs(lse[i])), `${what} lse[${i}] ${gotLse[i]} vs ${lse[i]}`);
      for (const t of [gq, gk, gv, gd, go, gl, gdq, gdk, gdv]) be.free(t);
    }
  } finally {
    be.setMatmulPrecision('fp32');
  }
});

test('cuda: a GEMM operand given as its bf16 copy (lowPrecisionCopy) gives exactly the bf16 GEMM of the fp32 operand', { skip }, () => {
  const be = cuda!;
  assert.equal(be.lowPrecisionCopy!(be.upload(rand(4)) as FBuf, 4), null, 'no copy at fp32 precision');
  be.setMatmulPrecision('bf16');
  try {
    for (const [M, N, K, tA, tB] of [[33, 20, 17, false, true], [64, 48, 40, true, false], [8, 8, 128, true, true]] as const) {
      const a = be.upload(rand(M * K)) as FBuf, b = be.upload(rand(K * N)) as FBuf;
      const al = be.lowPrecisionCopy!(a, M * K)!, bl = be.lowPrecisionCopy!(b, K * N)!;
      const results = [[a, b], [al, b], [a, bl], [al, bl]].map(([x, y]) => {
        const out = be.alloc('float32', M * N) as FBuf;
        be.matmul(out, x, y, M, N, K, tA, tB, false);
        const r = be.download(out) as Float32Array;
        be.free(out);
        return r;
      });
      for (let i = 1; i < results.length; i++) assert.deepEqual(results[i], results[0], `M=${M} N=${N} K=${K} tA=${tA} tB=${tB}: operand pair ${i}`);
      for (const t of [a, b, al, bl]) be.free(t);
    }
    // the copy is a rounded to bf16, nearest even (the 4-wide kernel at n % 4 == 0, the pair/tail kernels
    // otherwise): times the identity it gives those values back exactly
    for (const [M, K] of [[5, 8], [3, 5], [7, 2]]) {
      const host = rand(M * K, 3);
      const a = be.upload(host) as FBuf, al = be.lowPrecisionCopy!(a, M * K)!;
      const eye = new Float32Array(K * K);
      for (let i = 0; i < K; i++) eye[i * K + i] = 1;
      const I = be.upload(eye) as FBuf, out = be.alloc('float32', M * K) as FBuf;
      be.matmul(out, al, I, M, K, K, false, false, false);
      const want = host.slice();
      quantizeBf16(want);
      assert.deepEqual(be.download(out), want, `bf16 copy of ${M * K} floats rounds to nearest even`);
      for (const t of [a, al, I, out]) be.free(t);
    }
  } finally {
    be.setMatmulPrecision('fp32');
  }
});

test('cuda vs js: attentionDecode writes each sequence\'s cache row and attends its own positions (GQA, head dims 16..128)', { skip }, () => {
  const be = cuda!;
  for (const [H, KVH, D] of [[8, 2, 64], [16, 8, 32], [6, 1, 16], [8, 4, 96], [4, 2, 128]]) {
    for (const S of [1, 3, 16]) {
      const inner = KVH * D;
      const caps = Array.from({ length: S }, (_, s) => 8 + ((s * 37) % 300));
      const pos = Int32Array.from(caps, (c, s) => (s === 0 ? 0 : randInt(1, c)[0])); // position 0 (no history) included
      const q = rand(S * H * D, 2), k = rand(S * inner, 2), v = rand(S * inner);
      const kc = caps.map((c) => rand(c * inner, 2)), vc = caps.map((c) => rand(c * inner));
      const want = new Float32Array(S * H * D);
      const wkc = kc.map((c) => c.slice()), wvc = vc.map((c) => c.slice());
      jsBackend.attentionDecode!(want, q, k, v, wkc, wvc, pos, S, H, KVH, D, 1 / Math.sqrt(D));
      const u = (x: Float32Array): FBuf => be.upload(x) as FBuf;
      const [gout, gq, gk, gv] = [u(new Float32Array(S * H * D)), u(q), u(k), u(v)];
      const gkc = kc.map(u), gvc = vc.map(u);
      be.attentionDecode!(gout, gq, gk, gv, gkc, gvc, pos, S, H, KVH, D, 1 / Math.sqrt(D));
      const what = `H=${H} KVH=${KVH} D=${D} S=${S}`;
      close(be.download(gout) as Float32Array, want, `${what} out`, 1e-5);
      gkc.forEach((c, s) => close(be.download(c) as Float32Array, wkc[s], `${what} k cache ${s}`, 0));
      gvc.forEach((c, s) => close(be.download(c) as Float32Array, wvc[s], `${what} v cache ${s}`, 0));
      for (const t of [gout, gq, gk, gv, ...gkc, ...gvc]) be.free(t);
    }
  }
  const small = be.upload(new Float32Array(8)) as FBuf;
  assert.throws(() => be.attentionDecode!(small, small, small, small, [small], [small], Int32Array.of(1), 1, 1, 1, 8, 1), /too few for position 1/);
  be.free(small);
});

test('cuda: an op given a CPU tensor and a CUDA tensor fails with a clear message', { skip }, () => {
  const dev = cuda!.upload(rand(4)) as FBuf;
  assert.throws(() => cuda!.add(dev, dev, rand(4), 4), /must live on one backend/);
  cuda!.free(dev);
});

test('cuda: multi-tensor adamwStep, sumSquares and clipScale equal the per-tensor js kernels (lists longer than one launch)', { skip }, () => {
  const be = cuda!;
  // 40 tensors (two launches of the 36-tensor lists): sizes from 1 to 100k
  const sizes = Array.from({ length: 40 }, (_, i) => [1, 7, 512, 1408, 100003][i % 5] + i);
  const host = sizes.map((n) => ({ p: rand(n), g: rand(n, 0.1), m: rand(n, 0.01), v: rand(n, 0.01).map(Math.abs) }));
  const up = (k: 'p' | 'g' | 'm' | 'v'): FBuf[] => host.map((h) => be.upload(h[k]) as FBuf);
  const [P, G, M, V] = [up('p'), up('g'), up('m'), up('v')];
  // the per-tensor CUDA kernel on copies: the same arithmetic, so equal bit for bit; and js within adamw's 1e-5
  const [P1, M1, V1] = [up('p'), up('m'), up('v')];
  host.forEach((h, i) => be.adamwStep(P1[i], G[i], M1[i], V1[i], sizes[i], 1e-3, 0.9, 0.95, 1e-8, 0.1, 3, null));
  const want = host.map((h) => ({ p: h.p.slice(), m: h.m.slice(), v: h.v.slice() }));
  host.forEach((h, i) => jsBackend.adamwStep(want[i].p, h.g, want[i].m, want[i].v, sizes[i], 1e-3, 0.9, 0.95, 1e-8, 0.1, 3, null));
  be.adamwStepMulti!(P, G, M, V, sizes, 1e-3, 0.9, 0.95, 1e-8, 0.1, 3, null);
  want.forEach((w, i) => {
    assert.deepEqual(be.download(P[i]), be.download(P1[i]), `adamwStepMulti param ${i} equals adamwStep's`);
    assert.deepEqual(be.download(M[i]), be.download(M1[i]), `adamwStepMulti m ${i} equals adamwStep's`);
    assert.deepEqual(be.download(V[i]), be.download(V1[i]), `adamwStepMulti v ${i} equals adamwStep's`);
    close(be.download(P[i]), w.p, `adamwStepMulti param ${i}`, 1e-5);
    close(be.download(M[i]), w.m, `adamwStepMulti m ${i}`, 1e-5);
    close(be.download(V[i]), w.v, `adamwStepMulti v ${i}`, 1e-5);
  });
  // a non-finite guard leaves every tensor as it is
  const guard = be.upload(Float32Array.of(NaN)) as FBuf;
  be.adamwStepMulti!(P, G, M, V, sizes, 1e-3, 0.9, 0.95, 1e-8, 0.1, 4, guard);
  want.forEach((_, i) => assert.deepEqual(be.download(P[i]), be.download(P1[i]), `adamwStepMulti guarded param ${i} unchanged`));
  // Σg² over the list, then clipping to a norm below it
  const sumsq = be.upload(Float32Array.of(123)) as FBuf;
  be.sumSquaresMulti!(sumsq, G, sizes, false);
  let total = 0;
  for (const h of host) for (const x of h.g) total += x * x;
  const got = be.download(sumsq)[0];
  assert.ok(Math.abs(got - total) < 1e-5 * total, `sumSquaresMulti ${got} vs ${total}`);
  be.sumSquaresMulti!(sumsq, G, sizes, true);
  assert.ok(Math.abs(be.download(sumsq)[0] - 2 * total) < 2e-5 * total, 'sumSquaresMulti accumulates');
  be.sumSquaresMulti!(sumsq, G, sizes, false);
  const maxNorm = Math.sqrt(total) / 3;
  be.clipScaleMulti!(G, sizes, sumsq, maxNorm);
  host.forEach((h, i) => {
    const w = h.g.slice();
    jsBackend.clipScale(w, Float32Array.of(got), maxNorm, sizes[i]);
    close(be.download(G[i]), w, `clipScaleMulti ${i}`, 1e-6);
  });
  for (const b of [...P, ...G, ...M, ...V, ...P1, ...M1, ...V1, guard, sumsq]) be.free(b);
});
