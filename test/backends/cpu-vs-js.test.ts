// The native CPU backend against the js backend (the definition), kernel by kernel, on seeded
// random inputs: tiny and odd shapes (1, primes, sizes that straddle the GEMM's register tiles and
// cache blocks, the attention's 64-row query blocks), every transpose case, forward and backward,
// accumulate paths started from non-zero gradients. Every SIMD path this CPU has (AVX-512, AVX2,
// portable; the bf16 GEMMs on AMX and AVX512-BF16) and both 1 and 2 threads are run. Skips, saying why, only when the addon did not build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededInputs, close, accModes, modeName, gradInit } from './kernel-helpers.js';
import { jsBackend } from '../../src/backends/js/index.js';
import { loadCpuBackend, cpuLoadError, type CpuBackend } from '../../src/backends/cpu/index.js';
import type { Backend, UnaryOp } from '../../src/backends/backend.js';

const cpu = loadCpuBackend();
const skip = cpu === null ? `native CPU backend not built: ${cpuLoadError()}` : false;

// ---- seeded inputs ----
const { rand, randInt } = seededInputs(12345);
const clone = <T extends Float32Array | Int32Array>(a: T): T => a.slice() as T;

/**
 * Runs `fn` on both backends with fresh copies of `bufs` and compares every buffer named in
 * `outs` afterwards (outputs start from their given contents, so accumulation is checked too).
 */
function both(what: string, bufs: Record<string, Float32Array | Int32Array>, outs: string[], fn: (b: Backend, x: Record<string, any>) => unknown, tol?: number): void {
  const a: Record<string, any> = {};
  const b: Record<string, any> = {};
  for (const [k, v] of Object.entries(bufs)) {
    a[k] = clone(v);
    b[k] = clone(v);
  }
  const ra = fn(jsBackend, a);
  const rb = fn(cpu!, b);
  if (typeof ra === 'number') assert.ok(Math.abs((rb as number) - ra) <= 1e-5 * Math.abs(ra) + 1e-6, `${what}: returned ${rb}, js ${ra}`);
  for (const k of outs) close(b[k], a[k], `${what} [${k}]`, tol);
  // inputs must be left untouched
  for (const k of Object.keys(bufs)) if (!outs.includes(k)) close(b[k], bufs[k], `${what} [input ${k} modified]`, 0);
}

const configs: { isa: 'avx512' | 'avx2' | 'generic'; threads: number }[] = [
  { isa: 'avx512', threads: 2 },
  { isa: 'avx512', threads: 1 },
  { isa: 'avx2', threads: 2 },
  { isa: 'generic', threads: 2 },
];

function withConfig(c: (typeof configs)[number], body: () => void): boolean {
  const be = cpu as CpuBackend;
  const prevT = be.getThreads();
  const got = be.setIsa(c.isa);
  if (got !== c.isa) {
    be.setIsa('best');
    return false; // this CPU lacks the path
  }
  be.setThreads(c.threads);
  try {
    body();
  } finally {
    be.setIsa('best');
    be.setThreads(prevT);
  }
  return true;
}

function suite(name: string, body: () => void): void {
  for (const c of configs) {
    test(`cpu vs js: ${name} (${c.isa}, ${c.threads} thread${c.threads > 1 ? 's' : ''})`, { skip }, (t) => {
      if (!withConfig(c, body)) t.skip(`this CPU has no ${c.isa}`);
    });
  }
}

suite('elementwise, unary ops, sumSquares', () => {
  for (const n of [0, 1, 7, 33, 1000, 100003]) {
    const bufs = { out: rand(n), a: rand(n), b: rand(n) };
    both(`add n=${n}`, bufs, ['out'], (be, x) => be.add(x.out, x.a, x.b, n));
    both(`mul n=${n}`, bufs, ['out'], (be, x) => be.mul(x.out, x.a, x.b, n));
    both(`affine n=${n}`, bufs, ['out'], (be, x) => be.affine(x.out, x.a, 0.37, -1.5, n));
    both(`axpy n=${n}`, bufs, ['out'], (be, x) => be.axpy(x.out, x.a, -0.7, n));
    both(`sumSquares n=${n}`, { out: rand(1), a: bufs.a }, ['out'], (be, x) => be.sumSquares(x.out, x.a, n, false), 1e-5);
    both(`sumSquares accumulate n=${n}`, { out: rand(1), a: bufs.a }, ['out'], (be, x) => be.sumSquares(x.out, x.a, n, true), 1e-5);
    both(`clipScale n=${n}`, { x: rand(n), s: Float32Array.of(n / 3) }, ['x'], (be, x) => be.clipScale(x.x, x.s, 0.5, n), 1e-6);
    for (const op of ['exp', 'log', 'silu', 'sigmoid', 'logsigmoid'] as UnaryOp[]) {
      const xin = op === 'log' ? rand(n).map((v) => Math.abs(v) + 0.05) : rand(n, 6);
      const fwd = new Float32Array(n);
      jsBackend.unaryForward(op, fwd, xin, n);
      both(`${op} forward n=${n}`, { out: rand(n), x: xin }, ['out'], (be, x) => be.unaryForward(op, x.out, x.x, n), 1e-5);
      const unaryBufs = { dx: rand(n), dout: rand(n), x: xin, out: fwd };
      for (const acc of accModes(1)) {
        both(`${op} backward n=${n} ${modeName(acc)}`, gradInit(unaryBufs, ['dx'], acc), ['dx'], (be, x) =>
          be.unaryBackward(op, x.dx, x.dout, x.x, x.out, n, acc[0]), 1e-5);
      }
    }
    both(`swiglu forward n=${n}`, { out: rand(n), g: rand(n, 5), u: rand(n) }, ['out'], (be, x) => be.swigluForward(x.out, x.g, x.u, n));
    const swigluBufs = { dg: rand(n), du: rand(n), d: rand(n), g: rand(n, 5), u: rand(n) };
    for (const acc of accModes(2)) {
      both(`swiglu backward n=${n} ${modeName(acc)}`, gradInit(swigluBufs, ['dg', 'du'], acc), ['dg', 'du'], (be, x) =>
        be.swigluBackward(x.dg, x.du, x.d, x.g, x.u, n, acc[0], acc[1]));
    }
  }
  // fill / copy (typed-array methods on the wrapper) leave the tail alone
  const out = rand(10), ref = out.slice();
  cpu!.fill(out, 2.5, 4);
  jsBackend.fill(ref, 2.5, 4);
  close(out, ref, 'fill');
  for (const [n, v] of [[70000, 0], [300001, 1.25], [300001, 0]] as const) {
    const big = rand(n + 5), bigRef = big.slice();
    cpu!.fill(big, v, n);
    jsBackend.fill(bigRef, v, n);
    close(big, bigRef, `fill n=${n} value=${v}`, 0);
    const ints = randInt(n + 3, 50), intsRef = ints.slice();
    cpu!.fill(ints, 7, n);
    jsBackend.fill(intsRef, 7, n);
    close(ints, intsRef, `fill int32 n=${n}`, 0);
  }
  const src = rand(10);
  cpu!.copy(out, src, 6);
  jsBackend.copy(ref, src, 6);
  close(out, ref, 'copy');
});

suite('matmul, every transpose case', () => {
  const shapes = [[1, 1, 1], [1, 5, 3], [4, 1, 9], [3, 5, 7], [13, 33, 17], [12, 32, 256], [25, 65, 300], [37, 70, 513], [150, 97, 260], [200, 300, 100], [1, 300, 100], [3, 70, 513], [4, 600, 200], [2, 2000, 64], [32, 40, 130], [17, 129, 64]];
  for (const [M, N, K] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        for (const acc of [false, true]) {
          both(`matmul M=${M} N=${N} K=${K} transA=${ta} transB=${tb} acc=${acc}`, { out: rand(M * N), a: rand(M * K), b: rand(K * N) }, ['out'], (be, x) =>
            be.matmul(x.out, x.a, x.b, M, N, K, ta, tb, acc), 1e-4);
        }
      }
    }
  }
  // K = 0: the product is empty, so out is zeroed (or left as is when accumulating)
  both('matmul K=0', { out: rand(6) }, ['out'], (be, x) => be.matmul(x.out, new Float32Array(0), new Float32Array(0), 2, 3, 0, false, false, false));
});

// fp32 -> bf16 -> fp32, round to nearest even (the kernels' rounding of GEMM operands)
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
function roundBf16(x: number): number {
  f32[0] = x;
  u32[0] = ((u32[0] + 0x7fff + ((u32[0] >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f32[0];
}

// Each bf16 GEMM path (AMX tiles, AVX512-BF16 vdpbf16ps) is run where the CPU has it, chosen with
// setIsa. Two references: the exact product of the bf16-rounded operands (the kernel must match it to
// fp32 accumulation error, which pins the packing and rounding), and the fp32 product (within bf16
// rounding error, and not equal to it: the path must not be silently fp32).
for (const level of ['amx', 'avx512bf16'] as const) {
  test(`cpu vs js: bf16 matmul (${level}) equals the product of bf16-rounded operands, every transpose case`, { skip }, (t) => {
    const be = cpu as CpuBackend;
    if (be.setIsa(level) !== level) {
      be.setIsa('best');
      t.skip(`this CPU / OS has no ${level}`);
      return;
    }
    const prevT = be.getThreads();
    assert.equal(be.setMatmulPrecision('bf16'), 'bf16');
    try {
      for (const threads of [1, 2]) {
        be.setThreads(threads);
        for (const [M, N, K] of [[5, 3, 7], [3, 5, 7], [33, 31, 65], [64, 96, 128], [100, 70, 513], [130, 200, 96], [97, 45, 1025], [40, 600, 33]]) {
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              for (const acc of [false, true]) {
                const a = rand(M * K), b = rand(K * N), out0 = rand(M * N);
                const want = out0.slice(), got = out0.slice(), exact = out0.slice();
                jsBackend.matmul(want, a, b, M, N, K, ta, tb, acc);
                be.matmul(got, a, b, M, N, K, ta, tb, acc);
                jsBackend.matmul(exact, a.map(roundBf16), b.map(roundBf16), M, N, K, ta, tb, acc);
                const bound = new Float32Array(M * N);
                jsBackend.matmul(bound, a.map(Math.abs), b.map(Math.abs), M, N, K, ta, tb, false);
                const what = `bf16 matmul (${level}, ${threads} threads) M=${M} N=${N} K=${K} transA=${ta} transB=${tb} acc=${acc}`;
                if (M <= 4) {
                  // few rows (decoding) take the fp32 path, which reads the weights once
                  close(got, want, `${what} (fp32 path)`, 1e-4);
                  continue;
                }
                for (let i = 0; i < M * N; i++) {
                  const e1 = Math.abs(got[i] - exact[i]), e2 = Math.abs(got[i] - want[i]);
                  if (!(e1 <= bound[i] * 2 ** -20 + 1e-6)) assert.fail(`${what}: element ${i} is ${got[i]}, bf16-rounded operands give ${exact[i]}`);
                  // each bf16 operand carries a relative error <= 2^-9; the sum of |a||b| bounds the product's error
                  if (!(e2 <= bound[i] * 2 ** -7 + 1e-5)) assert.fail(`${what}: element ${i} is ${got[i]}, fp32 gives ${want[i]}`);
                }
                if (M * N * K >= 1000) assert.ok(got.some((v, i) => Math.abs(v - want[i]) > 1e-6), `${what}: identical to fp32`);
              }
            }
          }
        }
      }
      // below the bf16 levels the precision in effect is fp32, and the product is the fp32 one
      be.setIsa('avx512');
      if (be.isa() === 'avx512') {
        assert.equal(be.matmulPrecision(), 'fp32');
        const [M, N, K] = [37, 70, 513], a = rand(M * K), b = rand(K * N), got = new Float32Array(M * N), want = new Float32Array(M * N);
        be.matmul(got, a, b, M, N, K, false, true, false);
        jsBackend.matmul(want, a, b, M, N, K, false, true, false);
        close(got, want, `bf16 requested at isa avx512`, 1e-4);
        be.setIsa(level);
        assert.equal(be.matmulPrecision(), 'bf16');
      }
      // attention's block GEMMs follow the matmul precision: close to fp32 at bf16 accuracy
      const [B, Tq, Tk, Tcap, H, KVH, D] = [2, 70, 70, 70, 4, 2, 32];
      const nq = B * Tq * H * D, nk = B * Tcap * KVH * D, scale = 1 / Math.sqrt(D);
      const q = rand(nq), k = rand(nk), v = rand(nk), dout = rand(nq);
      const outs = [jsBackend, be].map((bk) => {
        const out = new Float32Array(nq), lse = new Float32Array(B * H * Tq);
        bk.attentionForward(out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale);
        const dq = new Float32Array(nq), dk = new Float32Array(nk), dv = new Float32Array(nk);
        bk.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, B, Tq, Tk, Tcap, H, KVH, D, scale, true, true, true);
        return { out, lse, dq, dk, dv };
      });
      // relative error of the whole tensor (single entries that are exactly 0 in fp32, e.g. dq of the
      // first query, come out as small bf16 noise)
      for (const name of ['out', 'lse', 'dq', 'dk', 'dv'] as const) {
        const got = outs[1][name], want = outs[0][name];
        let num = 0, den = 0;
        for (let i = 0; i < want.length; i++) {
          num += (got[i] - want[i]) ** 2;
          den += want[i] ** 2;
        }
        const rel = Math.sqrt(num / den);
        assert.ok(rel < 2e-2, `bf16 attention (${level}) ${name}: relative error ${rel.toExponential(2)}`);
        assert.ok(rel > 0 || name === 'lse', `bf16 attention (${level}) ${name}: identical to fp32, so not bf16`);
      }
    } finally {
      be.setMatmulPrecision('fp32');
      be.setIsa('best');
      be.setThreads(prevT);
    }
  });
}

suite('rows: embedding, rowScale, topk, gather', () => {
  for (const [N, C, V] of [[1, 1, 1], [5, 7, 3], [64, 33, 10], [300, 64, 50]]) {
    const ids = randInt(N, V);
    both(`embedding forward N=${N} C=${C}`, { out: rand(N * C), ids, w: rand(V * C) }, ['out'], (be, x) => be.embeddingForward(x.out, x.ids, x.w, N, C));
    both(`embedding backward N=${N} C=${C}`, { dw: rand(V * C), d: rand(N * C), ids }, ['dw'], (be, x) => be.embeddingBackward(x.dw, x.d, x.ids, N, C));
    both(`rowScale forward N=${N} C=${C}`, { out: rand(N * C), x: rand(N * C), w: rand(N) }, ['out'], (be, x) => be.rowScaleForward(x.out, x.x, x.w, N, C));
    const rowScaleBufs = { dx: rand(N * C), dw: rand(N), d: rand(N * C), x: rand(N * C), w: rand(N) };
    for (const acc of accModes(2)) {
      both(`rowScale backward N=${N} C=${C} ${modeName(acc)}`, gradInit(rowScaleBufs, ['dx', 'dw'], acc), ['dx', 'dw'], (be, x) =>
        be.rowScaleBackward(x.dx, x.dw, x.d, x.x, x.w, N, C, acc[0], acc[1]));
    }
    for (const k of [1, Math.min(2, C), C]) {
      // ties: quantised values make equal entries common
      const xq = rand(N * C).map((v) => Math.round(v * 3) / 3);
      both(`topk N=${N} C=${C} k=${k}`, { v: rand(N * k), i: randInt(N * k, 5), x: xq }, ['v', 'i'], (be, x) => be.topk(x.v, x.i, x.x, N, C, k), 0);
      const idx = randInt(N * k, C);
      both(`gather forward N=${N} C=${C} k=${k}`, { out: rand(N * k), x: rand(N * C), idx }, ['out'], (be, x) => be.gatherForward(x.out, x.x, x.idx, N, C, k));
      both(`gather backward N=${N} C=${C} k=${k}`, { dx: rand(N * C), d: rand(N * k), idx }, ['dx'], (be, x) => be.gatherBackward(x.dx, x.d, x.idx, N, C, k));
    }
  }
  assert.throws(() => cpu!.embeddingForward(new Float32Array(4), Int32Array.of(0, 7), new Float32Array(6), 2, 2), /outside/);
});

suite('shape: permute, slices, sumAxis', () => {
  const cases: [number[], number[]][] = [[[5], [0]], [[3, 4], [1, 0]], [[2, 3, 5], [2, 0, 1]], [[2, 7, 3, 4], [0, 2, 1, 3]], [[3, 1, 4, 2], [3, 2, 1, 0]], [[8, 64, 6, 5], [0, 2, 1, 3]]];
  for (const [shape, perm] of cases) {
    const n = shape.reduce((p, q) => p * q, 1);
    for (const acc of [false, true]) {
      both(`permute [${shape}] by [${perm}] acc=${acc}`, { out: rand(n), x: rand(n) }, ['out'], (be, x) => be.permute(x.out, x.x, shape, perm, acc));
      both(`permute int32 [${shape}] acc=${acc}`, { out: randInt(n, 100), x: randInt(n, 100) }, ['out'], (be, x) => be.permute(x.out, x.x, shape, perm, acc), 0);
    }
  }
  for (const [outer, dim, inner, start, len] of [[1, 1, 1, 0, 1], [3, 7, 5, 2, 4], [4, 10, 1, 9, 1], [20, 12, 33, 0, 12], [64, 300, 3, 100, 200]]) {
    for (const acc of [false, true]) {
      both(`sliceCopy ${outer}x${dim}x${inner} [${start}+${len}] acc=${acc}`, { out: rand(outer * len * inner), x: rand(outer * dim * inner) }, ['out'], (be, x) =>
        be.sliceCopy(x.out, x.x, outer, dim, inner, start, len, acc));
      both(`sliceScatter ${outer}x${dim}x${inner} [${start}+${len}] acc=${acc}`, { out: rand(outer * dim * inner), x: rand(outer * len * inner) }, ['out'], (be, x) =>
        be.sliceScatter(x.out, x.x, outer, dim, inner, start, len, acc));
      both(`sliceCopy int32 ${outer}x${dim}x${inner} acc=${acc}`, { out: randInt(outer * len * inner, 9), x: randInt(outer * dim * inner, 9) }, ['out'], (be, x) =>
        be.sliceCopy(x.out, x.x, outer, dim, inner, start, len, acc), 0);
    }
  }
  for (const [outer, dim, inner] of [[1, 1, 1], [1, 5, 1], [3, 4, 5], [1, 300, 70], [7, 1, 9], [50, 30, 2]]) {
    both(`sumAxis ${outer}x${dim}x${inner}`, { out: rand(outer * inner), x: rand(outer * dim * inner) }, ['out'], (be, x) => be.sumAxis(x.out, x.x, outer, dim, inner), 1e-4);
    const sumAxisBackwardBufs = { dx: rand(outer * dim * inner), d: rand(outer * inner) };
    for (const acc of accModes(1)) {
      both(`sumAxisBackward ${outer}x${dim}x${inner} ${modeName(acc)}`, gradInit(sumAxisBackwardBufs, ['dx'], acc), ['dx'], (be, x) =>
        be.sumAxisBackward(x.dx, x.d, outer, dim, inner, acc[0]));
    }
  }
});

suite('rmsnorm, rope', () => {
  for (const [N, C] of [[1, 1], [3, 7], [17, 64], [300, 513]]) {
    const w = rand(C);
    const x = rand(N * C, 3);
    const rstd = new Float32Array(N);
    jsBackend.rmsnormForward(new Float32Array(N * C), rstd, x, w, N, C, 1e-5);
    both(`rmsnorm forward N=${N} C=${C}`, { out: rand(N * C), rstd: rand(N), x, w }, ['out', 'rstd'], (be, b) => be.rmsnormForward(b.out, b.rstd, b.x, b.w, N, C, 1e-5));
    const rmsnormBufs = { dx: rand(N * C), dw: rand(C), d: rand(N * C), x, w, rstd };
    // C = 1: dx is the float32 rounding left of a cancellation (x·rstd = ±1), so an overwritten dx
    // (no addend to compare against) is checked on rows of 7 and more only; dw is checked in both modes
    for (const acc of accModes(2).filter((m) => C > 1 || m[0])) {
      both(`rmsnorm backward N=${N} C=${C} ${modeName(acc)}`, gradInit(rmsnormBufs, ['dx', 'dw'], acc), ['dx', 'dw'], (be, b) =>
        be.rmsnormBackward(b.dx, b.dw, b.d, b.x, b.w, b.rstd, N, C, acc[0], acc[1]), 1e-4);
    }
  }
  for (const [B, T, H, D] of [[1, 1, 1, 2], [2, 5, 3, 8], [2, 33, 4, 64], [1, 7, 2, 6]]) {
    for (const interleaved of [false, true]) {
      for (const pos0 of [0, 3]) {
        const maxPos = pos0 + T + 2;
        const cos = rand(maxPos * (D / 2)), sin = rand(maxPos * (D / 2));
        const n = B * T * H * D;
        const what = `rope B=${B} T=${T} H=${H} D=${D} interleaved=${interleaved} pos0=${pos0}`;
        both(`${what} forward`, { out: rand(n), x: rand(n), cos, sin }, ['out'], (be, b) => be.ropeForward(b.out, b.x, b.cos, b.sin, B, T, H, D, pos0, interleaved));
        const ropeBufs = { dx: rand(n), d: rand(n), cos, sin };
        for (const acc of accModes(1)) {
          both(`${what} backward ${modeName(acc)}`, gradInit(ropeBufs, ['dx'], acc), ['dx'], (be, b) =>
            be.ropeBackward(b.dx, b.d, b.cos, b.sin, B, T, H, D, pos0, interleaved, acc[0]));
        }
      }
    }
  }
});

suite('attention forward and backward (causal, GQA, KV cache)', () => {
  // [B, Tq, Tk, Tcap, H, KVH, D]
  const cases = [[1, 1, 1, 1, 1, 1, 1], [2, 5, 5, 7, 4, 2, 8], [1, 3, 9, 12, 4, 1, 16], [3, 1, 20, 24, 6, 3, 5], [2, 70, 70, 70, 4, 2, 32], [1, 130, 130, 131, 2, 2, 64], [1, 65, 129, 129, 3, 1, 33],
    // one query (decode steps; attention_one.cc on AVX-512 for D = 16, 32, 64, 128): KV groups of 1 to 9 heads
    // (chunks of 4 / 2 / 1), caches longer than the keys seen, key counts off the 16-lane width, threads
    [1, 1, 1, 4, 2, 2, 16], [2, 1, 37, 40, 16, 8, 32], [1, 1, 130, 200, 8, 2, 64], [1, 1, 17, 17, 9, 1, 128], [3, 1, 5, 9, 6, 2, 32],
    [2, 1, 300, 301, 8, 2, 64], [1, 1, 33, 33, 5, 1, 48]];
  for (const [B, Tq, Tk, Tcap, H, KVH, D] of cases) {
    const scale = 1 / Math.sqrt(D);
    const nq = B * Tq * H * D, nk = B * Tcap * KVH * D;
    const q = rand(nq, 2), k = rand(nk, 2), v = rand(nk);
    const out = new Float32Array(nq), lse = new Float32Array(B * H * Tq);
    jsBackend.attentionForward(out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale);
    const what = `attention B=${B} Tq=${Tq} Tk=${Tk} Tcap=${Tcap} H=${H} KVH=${KVH} D=${D}`;
    both(`${what} forward`, { out: rand(nq), lse: rand(B * H * Tq), q, k, v }, ['out', 'lse'], (be, b) =>
      be.attentionForward(b.out, b.lse, b.q, b.k, b.v, B, Tq, Tk, Tcap, H, KVH, D, scale), 1e-4);
    const attnBufs = { dq: rand(nq), dk: rand(nk), dv: rand(nk), d: rand(nq), q, k, v, out, lse };
    // one key (Tk = 1): dq and dk are exactly 0 and the kernels leave float rounding of p (dp - delta): compared only against an addend
    for (const acc of accModes(3).filter((m) => Tk > 1 || (m[0] && m[1]))) {
      both(`${what} backward ${modeName(acc)}`, gradInit(attnBufs, ['dq', 'dk', 'dv'], acc), ['dq', 'dk', 'dv'], (be, b) =>
        be.attentionBackward(b.dq, b.dk, b.dv, b.d, b.q, b.k, b.v, b.out, b.lse, B, Tq, Tk, Tcap, H, KVH, D, scale, acc[0], acc[1], acc[2]), 1e-4);
    }
  }
});

suite('softmax, log-softmax, fused log-softmax + gather (cross-entropy)', () => {
  for (const [N, C] of [[1, 1], [3, 7], [20, 101], [257, 640]]) {
    const x = rand(N * C, 8);
    const sm = new Float32Array(N * C), lsm = new Float32Array(N * C);
    jsBackend.softmaxForward(sm, x, N, C);
    jsBackend.logSoftmaxForward(lsm, x, N, C);
    both(`softmax forward ${N}x${C}`, { out: rand(N * C), x }, ['out'], (be, b) => be.softmaxForward(b.out, b.x, N, C));
    const softmaxBufs = { dx: rand(N * C), d: rand(N * C), o: sm };
    for (const acc of accModes(1)) {
      both(`softmax backward ${N}x${C} ${modeName(acc)}`, gradInit(softmaxBufs, ['dx'], acc), ['dx'], (be, b) => be.softmaxBackward(b.dx, b.d, b.o, N, C, acc[0]), 1e-4);
    }
    both(`logSoftmax forward ${N}x${C}`, { out: rand(N * C), x }, ['out'], (be, b) => be.logSoftmaxForward(b.out, b.x, N, C));
    const logSoftmaxBufs = { dx: rand(N * C), d: rand(N * C), o: lsm };
    for (const acc of accModes(1)) {
      both(`logSoftmax backward ${N}x${C} ${modeName(acc)}`, gradInit(logSoftmaxBufs, ['dx'], acc), ['dx'], (be, b) => be.logSoftmaxBackward(b.dx, b.d, b.o, N, C, acc[0]), 1e-4);
    }
    const targets = randInt(N, C);
    for (let i = 0; i < N; i += 3) targets[i] = -100;
    const lp = new Float32Array(N), lse = new Float32Array(N);
    jsBackend.logprobGatherForward(lp, lse, x, targets, N, C, -100);
    both(`logprobGather forward ${N}x${C}`, { out: rand(N), lse: rand(N), x, t: targets }, ['out', 'lse'], (be, b) =>
      be.logprobGatherForward(b.out, b.lse, b.x, b.t, N, C, -100));
    const logprobGatherBufs = { dx: rand(N * C), d: rand(N), x, lse, t: targets };
    for (const acc of accModes(1)) {
      both(`logprobGather backward ${N}x${C} ${modeName(acc)}`, gradInit(logprobGatherBufs, ['dx'], acc), ['dx'], (be, b) =>
        be.logprobGatherBackward(b.dx, b.d, b.x, b.lse, b.t, N, C, -100, acc[0]), 1e-4);
    }
  }
  assert.throws(() => cpu!.logprobGatherForward(new Float32Array(1), new Float32Array(1), new Float32Array(3), Int32Array.of(3), 1, 3, -100), /outside/);
});

suite('adamw', () => {
  for (const n of [1, 7, 1000, 70001]) {
    for (const step of [1, 2, 50]) {
      const bufs = { p: rand(n), g: rand(n), m: rand(n, 0.1), v: rand(n, 0.01).map(Math.abs) };
      both(`adamw n=${n} step=${step}`, bufs, ['p', 'm', 'v'], (be, b) => be.adamwStep(b.p, b.g, b.m, b.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, null), 1e-5);
      // a finite guard changes nothing; a non-finite one skips the step (no output: every buffer must stay as it was)
      both(`adamw n=${n} step=${step} guard=1e30`, { ...bufs, s: Float32Array.of(1e30) }, ['p', 'm', 'v'], (be, b) =>
        be.adamwStep(b.p, b.g, b.m, b.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, b.s), 1e-5);
      for (const bad of [NaN, Infinity, -Infinity]) {
        both(`adamw n=${n} step=${step} guard=${bad}`, bufs, [], (be, b) => be.adamwStep(b.p, b.g, b.m, b.v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, Float32Array.of(bad)));
      }
    }
  }
});

test('cpu backend: thread pool resizes (more threads than cores, back to 1) and gives the same results', { skip }, () => {
  const be = cpu as CpuBackend;
  const prev = be.getThreads();
  try {
    const [M, N, K] = [130, 150, 170];
    const a = rand(M * K), b = rand(K * N);
    const want = new Float32Array(M * N);
    jsBackend.matmul(want, a, b, M, N, K, false, true, false);
    for (const t of [3, 1, 4, 2]) {
      be.setThreads(t);
      assert.equal(be.getThreads(), t);
      const got = new Float32Array(M * N);
      be.matmul(got, a, b, M, N, K, false, true, false);
      close(got, want, `matmul with ${t} threads`, 1e-4);
      const x = rand(200000), o1 = new Float32Array(200000), o2 = new Float32Array(200000);
      be.swigluForward(o1, x, x, x.length);
      jsBackend.swigluForward(o2, x, x, x.length);
      close(o1, o2, `swiglu with ${t} threads`);
    }
    assert.throws(() => be.setThreads(0), /positive integer/);
  } finally {
    be.setThreads(prev);
  }
});

test('cpu backend: memory pool reuses buffers, liveBytes counts live ones, wrong sizes throw', { skip }, () => {
  const be = cpu as CpuBackend;
  const before = be.liveBytes();
  const a = be.alloc('float32', 1000) as Float32Array;
  assert.equal(be.liveBytes() - before, 4000);
  a.fill(3);
  be.free(a);  // (alloc promises no zeros: a reused buffer keeps old values)
  assert.equal(be.liveBytes(), before);
  const b = be.alloc('float32', 1000) as Float32Array;
  assert.equal(b, a, 'a freed buffer of the same size is reused');
  const u = be.upload(Int32Array.of(1, 2, 3));
  assert.ok(u instanceof Int32Array);
  assert.deepEqual(Array.from(be.download(u)), [1, 2, 3]);
  be.free(b);
  be.free(u);
  assert.equal(be.liveBytes(), before);
  // size classes: a big buffer of a slightly different size reuses the same allocation, zeroed
  const big = be.alloc('float32', 100000) as Float32Array;
  big.fill(7);
  be.free(big);
  const big2 = be.alloc('float32', 99000) as Float32Array;
  assert.equal(big2.length, 99000);
  assert.equal(big2.buffer, big.buffer, 'same size class, same memory');
  be.free(big2);
  assert.equal(be.liveBytes(), before);
  assert.throws(() => be.add(new Float32Array(3), new Float32Array(3), new Float32Array(2), 3), /needs 3/);
  assert.throws(() => be.add(new Float64Array(3), new Float64Array(3), new Float64Array(3), 3), /Float32Array/);
  assert.throws(() => be.matmul(new Float32Array(4), new Float32Array(4), new Float32Array(3), 2, 2, 2, false, false, false), /needs 4/);
});

test('cpu backend: MINIMIND_ISA caps the ISA level at load; a bad value is a UserError', { skip }, async () => {
  const { spawnSync } = await import('node:child_process');
  const probe = (isa: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `import { loadCpuBackend } from ${JSON.stringify(new URL('../../src/backends/cpu/index.js', import.meta.url).href)};
try { const be = loadCpuBackend(); console.log(be.isa() + ' ' + be.setMatmulPrecision('bf16')); } catch (e) { console.log(e.name + ': ' + e.message); }`], {
      encoding: 'utf8', env: { ...process.env, MINIMIND_ISA: isa },
    }).stdout.trim();
  assert.equal(probe('generic'), 'generic fp32', 'generic: no bf16 GEMM');
  const best = (cpu as CpuBackend).isa();
  assert.equal(probe(best), `${best} ${['amx', 'avx512bf16'].includes(best) ? 'bf16' : 'fp32'}`);
  assert.match(probe('sse9'), /^UserError: MINIMIND_ISA must be one of amx, avx512bf16, avx512, avx2, generic/);
});
