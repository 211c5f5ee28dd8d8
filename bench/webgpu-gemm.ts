// WebGPU GEMM throughput at the shapes of a v1-small / minimind-3 training step (B64 x 512 tokens:
// M = 32768 rows), each transpose case the model uses: forward (x @ W^T), input gradient
// (dy @ W), weight gradient (dy^T @ x). Prints one JSON line per shape with TFLOP/s; checks one
// output element against a host dot product so a wrong kernel cannot post a figure.
//   node dist/bench/webgpu-gemm.js [--reps 10]
import { parseArgs } from 'node:util';
import { loadWebgpuBackend, webgpuLoadError } from '../src/backends/webgpu/index.js';
import type { FBuf } from '../src/backends/backend.js';

const { values } = parseArgs({ options: { reps: { type: 'string' } } });
const reps = Number(values.reps ?? 10);
const be = loadWebgpuBackend();
if (!be) {
  console.log(JSON.stringify({ bench: 'webgpu-gemm', error: webgpuLoadError() }));
  process.exit(1);
}
// [M, N, K, transA, transB, what]
const shapes: [number, number, number, boolean, boolean, string][] = [
  [32768, 512, 512, false, true, 'v1-small q_proj forward'],
  [32768, 1408, 512, false, true, 'v1-small gate_proj forward'],
  [32768, 512, 1408, false, false, 'v1-small gate_proj input grad'],
  [1408, 512, 32768, true, false, 'v1-small gate_proj weight grad'],
  [32768, 6400, 512, false, true, 'v1-small lm_head forward'],
  [32768, 2048, 768, false, true, 'minimind-3 gate_proj forward'],
];
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
for (const [M, N, K, tA, tB, what] of shapes) {
  const ha = rand(M * K), hb = rand(K * N);
  const a = be.upload(ha) as FBuf, b = be.upload(hb) as FBuf, out = be.alloc('float32', M * N) as FBuf;
  be.matmul(out, a, b, M, N, K, tA, tB, false);
  be.synchronize();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) be.matmul(out, a, b, M, N, K, tA, tB, false);
  be.synchronize();
  const s = (performance.now() - t0) / 1000 / reps;
  // element (i, j) against the host
  const i = M - 1, j = N - 1;
  let want = 0;
  for (let k = 0; k < K; k++) want += (tA ? ha[k * M + i] : ha[i * K + k]) * (tB ? hb[j * K + k] : hb[k * N + j]);
  const got = (be.download(out) as Float32Array)[i * N + j];
  const ok = Math.abs(got - want) <= 1e-4 * (Math.abs(want) + K * 0.01);
  console.log(JSON.stringify({ bench: 'webgpu-gemm', what, M, N, K, transA: tA, transB: tB, ms: Math.round(s * 1e5) / 100, tflops: Math.round((2 * M * N * K) / s / 1e10) / 100, check: ok ? 'ok' : `got ${got}, want ${want}` }));
  for (const t of [a, b, out]) be.free(t);
}
