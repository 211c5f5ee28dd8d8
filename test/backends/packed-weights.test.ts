// The packed inference weights (nn/inference-weights.ts) and the native fused GEMV kernels that read
// them: the quantisers against hand-worked values and their error bounds; the kernels (every SIMD
// path this CPU has, 1 and 2 threads, few rows) against the js backend's fp32 matmul on the
// dequantised weights (q8: and on the activations quantised per 32 as llama.cpp's quantize_row_q8_0
// does, written out below); the packed copy is really what the matmuls read, and freeing the weight
// drops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import { loadCpuBackend, cpuLoadError, PACKED_MAX_ROWS, type CpuBackend, type PackedWeight } from '../../src/backends/cpu/index.js';
import { quantizeBf16, quantizeQ8 } from '../../src/nn/inference-weights.js';
import { quantizeQ8_0 } from '../../src/formats/gguf.js';
import { halfBitsToNumber, numberToHalfBits } from '../../src/formats/halfFloat.js';

const cpu = loadCpuBackend();
const skip = cpu === null ? `native CPU backend not built: ${cpuLoadError()}` : false;

let seed = 777;
function rand(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = (seed / 4294967296 * 2 - 1) * scale;
  }
  return a;
}

test('quantizeBf16 rounds to nearest even and returns the upper 16 bits', () => {
  const w = Float32Array.of(1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -2.5, 1 + 2 ** -7 + 2 ** -9, NaN, Infinity);
  const bits = quantizeBf16(w);
  // the ulp at 1 is 2^-7: 1 + 2^-8 is a tie, to even (1); 1 + 3 * 2^-8 is a tie, to even (1 + 2^-6)
  assert.deepEqual(Array.from(w.slice(0, 5)), [1, 1, 1 + 2 ** -6, -2.5, 1 + 2 ** -7]); // (below half an ulp: down)
  assert.ok(Number.isNaN(w[5]));
  assert.equal(w[6], Infinity);
  assert.equal(bits[0], 0x3f80);
  assert.equal(bits[3], 0xc020);
});

test('quantizeQ8: Q8_0 — one fp16 scale per 32 inputs, codes within [-127, 127], error <= scale / 2 (+ the fp16 rounding of the scale); codes and scales are our GGUF q8_0 export\'s bytes', () => {
  const K = 64, N = 3;
  const w = rand(N * K, 0.2);
  w[5] = 1.27; // block 0's max: scale 0.01, so 0.005 -> code 1 (half away from zero)
  w[6] = 0.005;
  w[7] = -0.005;
  const orig = w.slice();
  const { codes, scales } = quantizeQ8(w, K);
  assert.equal(scales.length, (N * K) / 32);
  assert.equal(scales[0], halfBitsToNumber(numberToHalfBits(Math.fround(1.27 / 127))), 'the scale is d rounded to fp16');
  assert.equal(codes[5], 127);
  assert.equal(codes[6], 1);
  assert.equal(codes[7], -1);
  for (let i = 0; i < w.length; i++) {
    const d = scales[Math.floor(i / 32)];
    assert.ok(Math.abs(codes[i]) <= 127);
    assert.equal(w[i], Math.fround(codes[i] * d), `w[${i}] is q * d`);
    // d differs from max|w| / 127 by at most 2^-11 relative (fp16), so each of the <= 127 steps by that much more
    assert.ok(Math.abs(w[i] - orig[i]) <= d / 2 + 127 * d * 2 ** -11 + 1e-7, `w[${i}] error ${Math.abs(w[i] - orig[i])} > ${d / 2}`);
  }
  // the same blocks as ggml's quantize_row_q8_0_ref writes them (src/formats/gguf.ts): 2 bytes of fp16 scale + 32 codes
  const ref = quantizeQ8_0(orig);
  const view = new DataView(ref.buffer);
  for (let b = 0; b < scales.length; b++) {
    assert.equal(view.getUint16(b * 34, true), numberToHalfBits(scales[b]), `block ${b}: scale`);
    for (let k = 0; k < 32; k++) assert.equal(view.getInt8(b * 34 + 2 + k), codes[b * 32 + k], `block ${b}: code ${k}`);
  }
  assert.throws(() => quantizeQ8(new Float32Array(40), 40), /multiple of 32/);
});

/** x (M rows of K) with each run of 32 quantised to int8 and back: d = max|x| / 127, q = x * (127 / max|x|) to nearest even (fp32 arithmetic). */
function q8Activations(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += 32) {
    let amax = 0;
    for (let k = 0; k < 32; k++) amax = Math.max(amax, Math.abs(x[o + k]));
    const id = amax > 0 ? Math.fround(127 / amax) : 0, d = Math.fround(amax / 127);
    for (let k = 0; k < 32; k++) {
      const v = Math.fround(x[o + k] * id);
      let q = Math.round(v);
      if (q - v === 0.5 && q % 2 !== 0) q -= 1; // a tie: to even
      out[o + k] = Math.fround(Math.max(-127, Math.min(127, q)) * d);
    }
  }
  return out;
}

test('q8Activations (the reference below): blocks of 32, ties to even, error <= d / 2', () => {
  const x = rand(64);
  x[0] = 1.27; // block 0: d = 0.01, 127 / max = 100
  x[1] = 0.005; // 0.5 -> 0 (tie to even)
  x[2] = 0.015; // 1.5 -> 2
  x[3] = -0.013; // -1.3 -> -1
  const q = q8Activations(x);
  assert.deepEqual(Array.from(q.slice(0, 4)), [1.27, 0, 0.02, -0.01].map(Math.fround));
  for (let i = 0; i < 64; i++) {
    let amax = 0;
    for (let k = i - (i % 32); k < i - (i % 32) + 32; k++) amax = Math.max(amax, Math.abs(x[k]));
    assert.ok(Math.abs(q[i] - x[i]) <= amax / 127 / 2 + 1e-7);
  }
});

const configs = [
  { isa: 'best', threads: 2 },
  { isa: 'best', threads: 1 },
  { isa: 'avx2', threads: 2 },
  { isa: 'generic', threads: 1 },
] as const;

for (const format of ['bf16', 'q8'] as const) {
  for (const c of configs) {
    test(`packed ${format} matmul (${c.isa}, ${c.threads} thread${c.threads > 1 ? 's' : ''}) equals the fp32 matmul on the dequantised weights${format === 'q8' ? ' and activations' : ''}`, { skip }, (t) => {
      const be = cpu as CpuBackend;
      const isa = be.setIsa(c.isa);
      if (c.isa !== 'best' && isa !== c.isa) {
        be.setIsa('best');
        t.skip(`this CPU has no ${c.isa}`);
        return;
      }
      const prevT = be.getThreads();
      be.setThreads(c.threads);
      try {
        const shapes = [[1, 1, 32], [1, 7, 64], [2, 33, 96], [3, 300, 512], [4, 130, 1408], [5, 17, 160], [16, 64, 32], [1, 1000, 256], [17, 20, 64], [32, 40, 96], [33, 20, 64]];
        if (format === 'q8') shapes.push([9, 70, 224], [40, 50, 96], [130, 37, 512]); // q8: any number of rows (prefill too)
        for (const [M, N, K] of shapes) {
          for (const Kd of format === 'bf16' ? [K, K + 7] : [K]) {
            const w = be.alloc('float32', N * Kd) as Float32Array;
            w.set(rand(N * Kd, 0.1));
            let p: PackedWeight;
            if (format === 'bf16') p = { format, N, K: Kd, data: quantizeBf16(w) };
            else {
              const q = quantizeQ8(w, Kd);
              p = { format, N, K: Kd, data: q.codes, scales: q.scales };
            }
            be.registerPackedWeight(w, p);
            const deq = w.slice(); // w now holds the dequantised values
            const x = rand(M * Kd);
            for (const acc of [false, true]) {
              const init = rand(M * N), got = init.slice(), want = init.slice();
              jsBackend.matmul(want, format === 'q8' ? q8Activations(x) : x, deq, M, N, Kd, false, true, acc);
              // Zero the fp32 buffer: up to PACKED_MAX_ROWS rows (q8: always), only the packed copy is read.
              w.fill(0);
              be.matmul(got, x, w, M, N, Kd, false, true, acc);
              w.set(deq);
              const what = `${format} M=${M} N=${N} K=${Kd} acc=${acc}`;
              if (M > PACKED_MAX_ROWS && format === 'bf16') {
                const zeroW = init.slice();
                jsBackend.matmul(zeroW, x, new Float32Array(N * Kd), M, N, Kd, false, true, acc);
                assert.deepEqual(got, zeroW, `${what}: more rows than PACKED_MAX_ROWS use the fp32 buffer`);
                continue;
              }
              for (let i = 0; i < want.length; i++) {
                const tol = 2e-6 * Kd * (1 + Math.abs(want[i]));
                if (!(Math.abs(got[i] - want[i]) <= tol)) assert.fail(`${what}: element ${i} is ${got[i]}, want ${want[i]}`);
              }
            }
            be.free(w);
          }
        }
      } finally {
        be.setThreads(prevT);
        be.setIsa('best');
      }
    });
  }
}

test('packed weights: freeing the fp32 buffer drops the packed copy; a mis-sized or odd q8 weight is refused', { skip }, () => {
  const be = cpu as CpuBackend;
  const [N, K] = [8, 64];
  const w = be.alloc('float32', N * K) as Float32Array;
  w.set(rand(N * K));
  be.registerPackedWeight(w, { format: 'bf16', N, K, data: new Uint16Array(N * K) }); // all zeros
  const x = rand(K), out = new Float32Array(N);
  be.matmul(out, x, w, 1, N, K, false, true, false);
  assert.ok(out.every((v) => v === 0), 'the (zero) packed copy is read');
  be.free(w);
  const w2 = be.alloc('float32', N * K) as Float32Array;
  assert.equal(w2, w, 'the pool hands the same buffer back');
  w2.set(rand(N * K));
  be.matmul(out, x, w2, 1, N, K, false, true, false);
  const want = new Float32Array(N);
  jsBackend.matmul(want, x, w2, 1, N, K, false, true, false);
  for (let i = 0; i < N; i++) assert.ok(Math.abs(out[i] - want[i]) < 1e-5, 'after free, the stale packed copy is not used');
  be.free(w2);
  assert.throws(() => be.registerPackedWeight(new Float32Array(40), { format: 'q8', N: 1, K: 40, data: new Int8Array(40), scales: new Float32Array(2) }), /multiple of 32/);
  assert.throws(() => be.registerPackedWeight(new Float32Array(32), { format: 'q8', N: 1, K: 32, data: new Int8Array(32), scales: Float32Array.of(0.1) }), /not an fp16 value/);
});
