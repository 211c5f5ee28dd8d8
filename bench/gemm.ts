// GEMM throughput of the native backend, GFLOP/s per shape: the shapes of a v1-small training step
// at batch 8 x seq 512 (M = 4096 tokens; Linear forward is NT, its backward NN for dX and TN for dW)
// plus a square reference. Prints one JSON line.
//   node dist/bench/gemm.js [--threads N] [--isa amx|avx512bf16|avx512|avx2|generic] [--precision fp32|bf16] [--seconds S]
// (bf16 = bf16 operands, fp32 accumulation: AMX tiles or AVX512-BF16 vdpbf16ps by the ISA level; reported as
// 'fp32' where the CPU has neither. --isa caps the level, e.g. --isa avx512bf16 on an AMX machine.)
import { loadCpuBackend, cpuLoadError } from '../src/backends/cpu/index.js';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { threads: { type: 'string' }, isa: { type: 'string' }, seconds: { type: 'string' }, precision: { type: 'string' } } });
const cpu = loadCpuBackend();
if (!cpu) {
  console.log(JSON.stringify({ error: cpuLoadError() }));
  process.exit(1);
}
if (values.threads) cpu.setThreads(Number(values.threads));
if (values.isa) cpu.setIsa(values.isa as 'avx512');  // before setMatmulPrecision: the level decides whether bf16 is available
const seconds = Number(values.seconds ?? 1);
const precision = cpu.setMatmulPrecision(values.precision === 'bf16' ? 'bf16' : 'fp32');

// [M, N, K, transA, transB, what]
const shapes: [number, number, number, boolean, boolean, string][] = [
  [4096, 512, 512, false, true, 'q_proj / o_proj forward'],
  [4096, 1408, 512, false, true, 'gate/up_proj forward'],
  [4096, 512, 1408, false, true, 'down_proj forward'],
  [4096, 6400, 512, false, true, 'lm_head forward'],
  [4096, 512, 1408, false, false, 'gate/up_proj backward dX'],
  [4096, 512, 6400, false, false, 'lm_head backward dX'],
  [1408, 512, 4096, true, false, 'gate/up_proj backward dW'],
  [512, 512, 4096, true, false, 'q_proj backward dW'],
  [6400, 512, 4096, true, false, 'lm_head backward dW'],
  [2048, 2048, 2048, false, false, 'square'],
];

const results = [];
let flops = 0, secs = 0;
for (const [M, N, K, ta, tb, what] of shapes) {
  const a = new Float32Array(M * K).map(() => Math.random() - 0.5);
  const b = new Float32Array(K * N).map(() => Math.random() - 0.5);
  const out = new Float32Array(M * N);
  cpu.matmul(out, a, b, M, N, K, ta, tb, false); // warm-up (scratch buffers, page faults)
  let it = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || it < 2) {
    cpu.matmul(out, a, b, M, N, K, ta, tb, false);
    it++;
  }
  const dt = (performance.now() - t0) / 1000 / it;
  flops += 2 * M * N * K;
  secs += dt;
  results.push({ M, N, K, op: (ta ? 'T' : 'N') + (tb ? 'T' : 'N'), what, gflops: +((2 * M * N * K) / dt / 1e9).toFixed(1), ms: +(dt * 1000).toFixed(2) });
}
console.log(JSON.stringify({ bench: 'gemm', precision, isa: cpu.isa(), threads: cpu.getThreads(), shapes: results, training_mix_gflops: +(flops / secs / 1e9).toFixed(1) }));
