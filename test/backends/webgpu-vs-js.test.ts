// The WebGPU backend against the js backend (the definition), kernel by kernel, on seeded random
// inputs: odd sizes, every transpose case, forward and backward, accumulate paths started from
// non-zero gradients and overwrite paths started from NaN, head dims 8..128 with GQA and a KV
// cache. Tolerances are near what fp32 WGSL achieves. CI runs it on lavapipe (a CPU Vulkan
// driver), so shapes are small but cross every tile edge of the kernels (128-wide GEMM tiles,
// 64-query attention blocks, 256-thread row reductions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededInputs, accModes, modeName, gradInit, versusJs } from './kernel-helpers.js';
import { jsBackend } from '../../src/backends/js/index.js';
import type { FBuf, UnaryOp } from '../../src/backends/backend.js';
import { requireWebgpu, webgpuSkip as skip } from './webgpu-helpers.js';

const { rand, randInt } = seededInputs(2222);
const both = (...a: Parameters<ReturnType<typeof versusJs>>): void => versusJs(requireWebgpu())(...a);

test('webgpu vs js: elementwise, unary, swiglu, fill, copy, sumSquares, clipScale', { skip }, () => {
  for (const n of [1, 7, 33, 1000, 70003]) {
    const bufs = { out: rand(n), a: rand(n), b: rand(n) };
    both(`add n=${n}`, bufs, ['out'], (be, x) => be.add(x.out, x.a, x.b, n), 0);
    both(`mul n=${n}`, bufs, ['out'], (be, x) => be.mul(x.out, x.a, x.b, n), 0);
    both(`affine n=${n}`, bufs, ['out'], (be, x) => be.affine(x.out, x.a, 0.37, -1.5, n), 1e-6);
    both(`axpy n=${n}`, bufs, ['out'], (be, x) => be.axpy(x.out, x.a, -0.7, n), 1e-6);
    both(`sumSquares n=${n}`, { out: rand(1), a: rand(n) }, ['out'], (be, x) => be.sumSquares(x.out, x.a, n, false), 1e-6);
    both(`sumSquares accumulate n=${n}`, { out: rand(1), a: rand(n) }, ['out'], (be, x) => be.sumSquares(x.out, x.a, n, true), 1e-6);
    for (const norm of [0.5, 1e9]) {
      both(`clipScale n=${n} maxNorm=${norm}`, { x: rand(n), s: Float32Array.of(n / 3) }, ['x'], (be, x) => be.clipScale(x.x, x.s, norm, n), 1e-6);
    }
    for (const op of ['exp', 'log', 'silu', 'sigmoid', 'logsigmoid'] as UnaryOp[]) {
      const xin = op === 'log' ? rand(n).map((v) => Math.abs(v) + 0.05) : rand(n, 6);
      const fwd = new Float32Array(n);
      jsBackend.unaryForward(op, fwd, xin, n);
      both(`${op} forward n=${n}`, { out: rand(n), x: xin }, ['out'], (be, x) => be.unaryForward(op, x.out, x.x, n), 1e-6);
      const unaryBufs = { dx: rand(n), dout: rand(n), x: xin, out: fwd };
      for (const acc of accModes(1)) {
        both(`${op} backward n=${n} ${modeName(acc)}`, gradInit(unaryBufs, ['dx'], acc), ['dx'], (be, x) => be.unaryBackward(op, x.dx, x.dout, x.x, x.out, n, acc[0]), 1e-6);
      }
    }
    both(`swiglu forward n=${n}`, { out: rand(n), g: rand(n, 5), u: rand(n) }, ['out'], (be, x) => be.swigluForward(x.out, x.g, x.u, n), 1e-6);
    const swigluBufs = { dg: rand(n), du: rand(n), d: rand(n), g: rand(n, 5), u: rand(n) };
    for (const acc of accModes(2)) {
      both(`swiglu backward n=${n} ${modeName(acc)}`, gradInit(swigluBufs, ['dg', 'du'], acc), ['dg', 'du'], (be, x) => be.swigluBackward(x.dg, x.du, x.d, x.g, x.u, n, acc[0], acc[1]), 1e-6);
    }
    both(`fill n=${n}`, { out: rand(n + 3) }, ['out'], (be, x) => be.fill(x.out, 2.5, n), 0);
    both(`fill int32 n=${n}`, { out: randInt(n + 3, 9) }, ['out'], (be, x) => be.fill(x.out, 7, n), 0);
    both(`copy n=${n}`, { out: rand(n + 3), x: rand(n) }, ['out'], (be, x) => be.copy(x.out, x.x, n), 0);
  }
  // in place: an output that is also an input (WebGPU forbids aliasing a writable binding; the runtime copies)
  both('add in place', { a: rand(100), b: rand(100) }, ['a'], (be, x) => be.add(x.a, x.a, x.b, 100), 0);
});

test('webgpu vs js: matmul fp32 (vec4 and scalar tiles, split-K), every transpose case, accumulate, the one-row GEMV', { skip }, () => {
  // multiples of 4 take the vec4 kernel ([132, 136, 20]: two tiles each way, a partial K slice), the rest the scalar one;
  // K >= 2048 over few output tiles is split along K (2, 2 and 4 slices, the last one partial)
  const shapes = [[1, 1, 1], [1, 5, 3], [4, 1, 9], [13, 33, 17], [1, 200, 70], [1, 64, 8], [130, 129, 20], [25, 65, 300], [2, 300, 64], [132, 136, 20], [4, 8, 36], [64, 260, 100],
    [20, 36, 2100], [21, 33, 2050], [8, 12, 4100]];
  for (const [M, N, K] of shapes) {
    for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
      both(`matmul M=${M} N=${N} K=${K} transA=${ta} transB=${tb} acc=${acc}`, { out: rand(M * N), a: rand(M * K), b: rand(K * N) }, ['out'], (be, x) =>
        be.matmul(x.out, x.a, x.b, M, N, K, ta, tb, acc), 2e-6);
    }
  }
  both('matmul K=0', { out: rand(6), a: rand(1), b: rand(1) }, ['out'], (be, x) => be.matmul(x.out, x.a, x.b, 2, 3, 0, false, false, false), 0);
});

test('webgpu vs js: rows (embedding, rowScale, topk, gather)', { skip }, () => {
  for (const [N, C, V] of [[1, 1, 1], [5, 7, 3], [64, 33, 10], [300, 64, 50]]) {
    const ids = randInt(N, V);
    both(`embedding forward N=${N} C=${C}`, { out: rand(N * C), ids, w: rand(V * C) }, ['out'], (be, x) => be.embeddingForward(x.out, x.ids, x.w, N, C), 0);
    both(`embedding backward N=${N} C=${C}`, { dw: rand(V * C), d: rand(N * C), ids }, ['dw'], (be, x) => be.embeddingBackward(x.dw, x.d, x.ids, N, C), 1e-6);
    both(`rowScale forward N=${N} C=${C}`, { out: rand(N * C), x: rand(N * C), w: rand(N) }, ['out'], (be, x) => be.rowScaleForward(x.out, x.x, x.w, N, C), 0);
    const rowScaleBufs = { dx: rand(N * C), dw: rand(N), d: rand(N * C), x: rand(N * C), w: rand(N) };
    for (const acc of accModes(2)) {
      both(`rowScale backward N=${N} C=${C} ${modeName(acc)}`, gradInit(rowScaleBufs, ['dx', 'dw'], acc), ['dx', 'dw'], (be, x) => be.rowScaleBackward(x.dx, x.dw, x.d, x.x, x.w, N, C, acc[0], acc[1]), 1e-6);
    }
    for (const k of [1, Math.min(2, C), C]) {
      const xq = rand(N * C).map((v) => Math.round(v * 3) / 3);  // ties are common
      both(`topk N=${N} C=${C} k=${k}`, { v: rand(N * k), i: randInt(N * k, 5), x: xq }, ['v', 'i'], (be, x) => be.topk(x.v, x.i, x.x, N, C, k), 0);
      const idx = randInt(N * k, C);
      both(`gather forward N=${N} C=${C} k=${k}`, { out: rand(N * k), x: rand(N * C), idx }, ['out'], (be, x) => be.gatherForward(x.out, x.x, x.idx, N, C, k), 0);
      both(`gather backward N=${N} C=${C} k=${k}`, { dx: rand(N * C), d: rand(N * k), idx }, ['dx'], (be, x) => be.gatherBackward(x.dx, x.d, x.idx, N, C, k), 1e-6);
    }
  }
});

test('webgpu vs js: shape (permute, slices, sumAxis), float32 and int32', { skip }, () => {
  const cases: [number[], number[]][] = [[[5], [0]], [[3, 4], [1, 0]], [[2, 3, 5], [2, 0, 1]], [[2, 7, 3, 4], [0, 2, 1, 3]], [[3, 1, 4, 2], [3, 2, 1, 0]], [[2, 3, 2, 2, 3, 2], [5, 0, 4, 1, 3, 2]]];
  for (const [shape, perm] of cases) {
    const n = shape.reduce((p, q) => p * q, 1);
    for (const acc of [false, true]) both(`permute [${shape}] by [${perm}] acc=${acc}`, { out: rand(n), x: rand(n) }, ['out'], (be, x) => be.permute(x.out, x.x, shape, perm, acc), 0);
    both(`permute int32 [${shape}]`, { out: randInt(n, 100), x: randInt(n, 100) }, ['out'], (be, x) => be.permute(x.out, x.x, shape, perm, false), 0);
  }
  for (const [outer, dim, inner, start, len] of [[1, 1, 1, 0, 1], [3, 7, 5, 2, 4], [4, 10, 1, 9, 1], [64, 300, 3, 100, 200]]) {
    for (const acc of [false, true]) {
      both(`sliceCopy ${outer}x${dim}x${inner} [${start}+${len}] acc=${acc}`, { out: rand(outer * len * inner), x: rand(outer * dim * inner) }, ['out'], (be, x) => be.sliceCopy(x.out, x.x, outer, dim, inner, start, len, acc), 0);
      both(`sliceScatter ${outer}x${dim}x${inner} [${start}+${len}] acc=${acc}`, { out: rand(outer * dim * inner), x: rand(outer * len * inner) }, ['out'], (be, x) => be.sliceScatter(x.out, x.x, outer, dim, inner, start, len, acc), 0);
    }
    both(`sliceCopy int32 ${outer}x${dim}x${inner}`, { out: randInt(outer * len * inner, 9), x: randInt(outer * dim * inner, 9) }, ['out'], (be, x) => be.sliceCopy(x.out, x.x, outer, dim, inner, start, len, false), 0);
  }
  for (const [outer, dim, inner] of [[1, 1, 1], [1, 5, 1], [3, 4, 5], [1, 300, 70], [1, 20000, 1], [50, 30, 2]]) {
    both(`sumAxis ${outer}x${dim}x${inner}`, { out: rand(outer * inner), x: rand(outer * dim * inner) }, ['out'], (be, x) => be.sumAxis(x.out, x.x, outer, dim, inner), 1e-5);
    const sumAxisBackwardBufs = { dx: rand(outer * dim * inner), d: rand(outer * inner) };
    for (const acc of accModes(1)) {
      both(`sumAxisBackward ${outer}x${dim}x${inner} ${modeName(acc)}`, gradInit(sumAxisBackwardBufs, ['dx'], acc), ['dx'], (be, x) => be.sumAxisBackward(x.dx, x.d, outer, dim, inner, acc[0]), 0);
    }
  }
});

test('webgpu vs js: rmsnorm, rope (both layouts)', { skip }, () => {
  for (const [N, C] of [[1, 1], [3, 7], [17, 64], [130, 96], [33, 256], [70, 513], [5, 1500]]) {
    const w = rand(C), x = rand(N * C, 3), rstd = new Float32Array(N);
    jsBackend.rmsnormForward(new Float32Array(N * C), rstd, x, w, N, C, 1e-5);
    both(`rmsnorm forward N=${N} C=${C}`, { out: rand(N * C), rstd: rand(N), x, w }, ['out', 'rstd'], (be, b) => be.rmsnormForward(b.out, b.rstd, b.x, b.w, N, C, 1e-5), 1e-6);
    const rmsnormBufs = { dx: rand(N * C), dw: rand(C), d: rand(N * C), x, w, rstd };
    // C = 1: dx is float rounding left of a cancellation (x·rstd = ±1): checked against an addend only
    for (const acc of accModes(2).filter((m) => C > 1 || m[0])) {
      both(`rmsnorm backward N=${N} C=${C} ${modeName(acc)}`, gradInit(rmsnormBufs, ['dx', 'dw'], acc), ['dx', 'dw'], (be, b) => be.rmsnormBackward(b.dx, b.dw, b.d, b.x, b.w, b.rstd, N, C, acc[0], acc[1]), 2e-5);
    }
  }
  for (const [B, T, H, D] of [[1, 1, 1, 2], [2, 5, 3, 8], [2, 33, 4, 64], [1, 7, 2, 6], [3, 40, 8, 96]]) {
    for (const interleaved of [false, true]) for (const pos0 of [0, 3]) {
      const maxPos = pos0 + T + 2, cos = rand(maxPos * (D / 2)), sin = rand(maxPos * (D / 2)), n = B * T * H * D;
      const what = `rope B=${B} T=${T} H=${H} D=${D} interleaved=${interleaved} pos0=${pos0}`;
      both(`${what} forward`, { out: rand(n), x: rand(n), cos, sin }, ['out'], (be, b) => be.ropeForward(b.out, b.x, b.cos, b.sin, B, T, H, D, pos0, interleaved), 1e-6);
      const ropeBufs = { dx: rand(n), d: rand(n), cos, sin };
      for (const acc of accModes(1)) {
        both(`${what} backward ${modeName(acc)}`, gradInit(ropeBufs, ['dx'], acc), ['dx'], (be, b) => be.ropeBackward(b.dx, b.d, b.cos, b.sin, B, T, H, D, pos0, interleaved, acc[0]), 1e-6);
      }
    }
  }
});

test('webgpu vs js: attention forward and backward (causal, GQA, KV cache), head dims 8..128', { skip }, () => {
  // [B, Tq, Tk, Tcap, H, KVH, D]
  const cases = [[1, 1, 1, 1, 1, 1, 8], [2, 5, 5, 7, 4, 2, 8], [1, 3, 9, 12, 4, 1, 16], [3, 1, 20, 24, 6, 3, 32], [2, 70, 70, 70, 4, 2, 32],
    [1, 130, 130, 131, 2, 2, 64], [1, 65, 129, 129, 3, 1, 48], [1, 40, 40, 40, 4, 2, 96], [1, 33, 50, 64, 2, 2, 128]];
  for (const [B, Tq, Tk, Tcap, H, KVH, D] of cases) {
    const scale = 1 / Math.sqrt(D), nq = B * Tq * H * D, nk = B * Tcap * KVH * D;
    const q = rand(nq, 2), k = rand(nk, 2), v = rand(nk);
    const out = new Float32Array(nq), lse = new Float32Array(B * H * Tq);
    jsBackend.attentionForward(out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale);
    const what = `attention B=${B} Tq=${Tq} Tk=${Tk} Tcap=${Tcap} H=${H} KVH=${KVH} D=${D}`;
    both(`${what} forward`, { out: rand(nq), lse: rand(B * H * Tq), q, k, v }, ['out', 'lse'], (be, b) => be.attentionForward(b.out, b.lse, b.q, b.k, b.v, B, Tq, Tk, Tcap, H, KVH, D, scale), 1e-5);
    const attnBufs = { dq: rand(nq), dk: rand(nk), dv: rand(nk), d: rand(nq), q, k, v, out, lse };
    // one key (Tk = 1): dq and dk are exactly 0 and the kernels leave float rounding of p (dp - delta): compared only against an addend
    for (const acc of accModes(3).filter((m) => Tk > 1 || (m[0] && m[1]))) {
      both(`${what} backward ${modeName(acc)}`, gradInit(attnBufs, ['dq', 'dk', 'dv'], acc), ['dq', 'dk', 'dv'], (be, b) =>
        be.attentionBackward(b.dq, b.dk, b.dv, b.d, b.q, b.k, b.v, b.out, b.lse, B, Tq, Tk, Tcap, H, KVH, D, scale, acc[0], acc[1], acc[2]), 3e-5);
    }
  }
});

test('webgpu vs js: softmax, log-softmax, fused log-softmax + gather', { skip }, () => {
  for (const [N, C] of [[1, 1], [3, 7], [20, 101], [257, 640], [8, 6400]]) {
    const x = rand(N * C, 8), sm = new Float32Array(N * C), lsm = new Float32Array(N * C);
    jsBackend.softmaxForward(sm, x, N, C);
    jsBackend.logSoftmaxForward(lsm, x, N, C);
    both(`softmax forward ${N}x${C}`, { out: rand(N * C), x }, ['out'], (be, b) => be.softmaxForward(b.out, b.x, N, C), 1e-5);
    const softmaxBufs = { dx: rand(N * C), d: rand(N * C), o: sm };
    for (const acc of accModes(1)) {
      both(`softmax backward ${N}x${C} ${modeName(acc)}`, gradInit(softmaxBufs, ['dx'], acc), ['dx'], (be, b) => be.softmaxBackward(b.dx, b.d, b.o, N, C, acc[0]), 1e-5);
    }
    both(`logSoftmax forward ${N}x${C}`, { out: rand(N * C), x }, ['out'], (be, b) => be.logSoftmaxForward(b.out, b.x, N, C), 1e-5);
    const logSoftmaxBufs = { dx: rand(N * C), d: rand(N * C), o: lsm };
    for (const acc of accModes(1)) {
      both(`logSoftmax backward ${N}x${C} ${modeName(acc)}`, gradInit(logSoftmaxBufs, ['dx'], acc), ['dx'], (be, b) => be.logSoftmaxBackward(b.dx, b.d, b.o, N, C, acc[0]), 1e-5);
    }
    const targets = randInt(N, C);
    for (let i = 0; i < N; i += 3) targets[i] = -100;
    const lp = new Float32Array(N), lse = new Float32Array(N);
    jsBackend.logprobGatherForward(lp, lse, x, targets, N, C, -100);
    both(`logprobGather forward ${N}x${C}`, { out: rand(N), lse: rand(N), x, t: targets }, ['out', 'lse'], (be, b) => be.logprobGatherForward(b.out, b.lse, b.x, b.t, N, C, -100), 1e-5);
    const logprobGatherBufs = { dx: rand(N * C), d: rand(N), x, lse, t: targets };
    for (const acc of accModes(1)) {
      both(`logprobGather backward ${N}x${C} ${modeName(acc)}`, gradInit(logprobGatherBufs, ['dx'], acc), ['dx'], (be, b) => be.logprobGatherBackward(b.dx, b.d, b.x, b.lse, b.t, N, C, -100, acc[0]), 1e-5);
    }
  }
});

test('webgpu vs js: adamw, its guard read on the device', { skip }, () => {
  const be = requireWebgpu();
  for (const n of [1, 7, 1000, 70001]) for (const step of [1, 2, 50]) {
    const bufs = { p: rand(n), g: rand(n), m: rand(n, 0.1), v: rand(n, 0.01).map(Math.abs) };
    both(`adamw n=${n} step=${step}`, bufs, ['p', 'm', 'v'], (b, x) => b.adamwStep(x.p, x.g, x.m, x.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, null), 1e-5);
    both(`adamw n=${n} step=${step} guard=1e30`, { ...bufs, s: Float32Array.of(1e30) }, ['p', 'm', 'v'], (b, x) =>
      b.adamwStep(x.p, x.g, x.m, x.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, x.s), 1e-5);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const guard = { js: Float32Array.of(bad), gpu: be.upload(Float32Array.of(bad)) as FBuf };
      both(`adamw n=${n} step=${step} guard=${bad}`, bufs, [], (b, x) => b.adamwStep(x.p, x.g, x.m, x.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, b === jsBackend ? guard.js : guard.gpu));
      be.free(guard.gpu);
    }
  }
});

test('webgpu backend: pooled buffers are reused, a freed buffer is refused at the next read, a CPU tensor is refused', { skip }, () => {
  const be = requireWebgpu();
  const before = be.liveBytes();
  const a = be.alloc('float32', 1 << 16);
  assert.equal(be.liveBytes(), before + 4 * (1 << 16));
  be.free(a);
  assert.equal(be.liveBytes(), before);
  const held = (): number => { const s = be.memoryStats(); return s.live + s.cached; };
  const total = held();
  const b = be.alloc('float32', 1 << 16);
  assert.equal(held(), total, 'a pooled buffer of the same size is reused');
  be.free(b);
  be.fill(b, 1, 4);
  assert.throws(() => be.synchronize(), /not live/);
  const dev = be.upload(rand(4)) as FBuf;
  assert.throws(() => be.add(dev, dev, rand(4), 4), /must live on one backend/);
  be.free(dev);
});
