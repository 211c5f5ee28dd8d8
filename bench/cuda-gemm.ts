// GEMM and attention throughput of the CUDA backend on the shapes of a v1-small training step at
// batch 64 x seq 512 (M = 32768 tokens), in fp32 and bf16 precision, timed with a device sync around
// 20 repetitions (after 3 warm-up calls). Prints one JSON line per shape: ms per call and TFLOP/s.
//   node dist/bench/cuda-gemm.js
import { loadCudaBackend, cudaLoadError } from '../src/backends/cuda/index.js';
import type { FBuf } from '../src/backends/backend.js';

const be = loadCudaBackend();
if (!be) {
  console.log(JSON.stringify({ error: cudaLoadError() }));
  process.exit(1);
}
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const up = (n: number): FBuf => be.upload(rand(n)) as FBuf;

function time(fn: () => void): number {
  for (let i = 0; i < 3; i++) fn();
  be!.synchronize();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) fn();
  be!.synchronize();
  return (performance.now() - t0) / 20;
}

const M = 32768;
// [M, N, K, transA, transB, what]
const shapes: [number, number, number, boolean, boolean, string][] = [
  [M, 512, 512, false, true, 'q_proj forward'],
  [M, 1408, 512, false, true, 'gate/up_proj forward'],
  [M, 512, 1408, false, true, 'down_proj forward'],
  [M, 6400, 512, false, true, 'lm_head forward'],
  [M, 512, 1408, false, false, 'gate/up_proj backward dX'],
  [M, 512, 6400, false, false, 'lm_head backward dX'],
  [1408, 512, M, true, false, 'gate/up_proj backward dW'],
  [6400, 512, M, true, false, 'lm_head backward dW'],
];
for (const precision of ['fp32', 'bf16'] as const) {
  be.setMatmulPrecision(precision);
  for (const [m, n, k, ta, tb, what] of shapes) {
    const a = up(m * k), b = up(k * n), out = up(m * n);
    const ms = time(() => be.matmul(out, a, b, m, n, k, ta, tb, false));
    console.log(JSON.stringify({ bench: 'cuda-gemm', precision, what, M: m, N: n, K: k, ms: +ms.toFixed(4), tflops: +((2 * m * n * k) / ms / 1e9).toFixed(1) }));
    for (const t of [a, b, out]) be.free(t);
  }
  // attention of one layer of v1-small (B 64, T 512, H 16, KVH 8, D 32) and of minimind-3 (H 8, KVH 4, D 96)
  for (const [shape, B, T, H, KVH, D] of [['v1-small layer 64x512', 64, 512, 16, 8, 32], ['minimind-3 layer 64x512', 64, 512, 8, 4, 96]] as const) {
    const q = up(B * T * H * D), k = up(B * T * KVH * D), v = up(B * T * KVH * D), o = up(B * T * H * D), lse = up(B * H * T);
    const dq = up(B * T * H * D), dk = up(B * T * KVH * D), dv = up(B * T * KVH * D), d = up(B * T * H * D);
    const fwd = time(() => be.attentionForward(o, lse, q, k, v, B, T, T, T, H, KVH, D, 1 / Math.sqrt(D)));
    const bwd = time(() => be.attentionBackward(dq, dk, dv, d, q, k, v, o, lse, B, T, T, T, H, KVH, D, 1 / Math.sqrt(D), false, false, false));
    const flops = 2 * 2 * B * H * T * T * D / 2;  // two causal products
    console.log(JSON.stringify({ bench: 'cuda-attention', precision, shape, forward_ms: +fwd.toFixed(3), backward_ms: +bwd.toFixed(3), forward_tflops: +(flops / fwd / 1e9).toFixed(1), backward_tflops: +(2.5 * flops / bwd / 1e9).toFixed(1) }));
    for (const t of [q, k, v, o, lse, dq, dk, dv, d]) be.free(t);
  }
}
be.setMatmulPrecision('fp32');
