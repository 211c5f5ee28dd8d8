// Where a training step's time goes, kernel by kernel: wraps every method of the native backend
// with a timer, runs warm-up + timed steps of `minimind bench train`, and prints one JSON line
// {kernel: {calls, ms, share}} sorted by time, plus the remainder (JS engine overhead). Kernel times
// include the model's construction (a few uploads), the total is the timed steps only.
//   node dist/bench/profile-kernels.js [preset] [batch] [seq] [steps] [train|forward|generate] [fp32|bf16] [generate: fp32|bf16|q8 weights]
import { loadCpuBackend, cpuLoadError } from '../src/backends/cpu/index.js';
import { runBench } from '../src/cli/commands/bench.js';

const [preset = 'v1-small', batch = '8', seq = '512', steps = '1', mode = 'train', dtype = 'fp32', weights = 'fp32'] = process.argv.slice(2) as string[];
const cpu = loadCpuBackend();
if (!cpu) {
  console.log(JSON.stringify({ error: cpuLoadError() }));
  process.exit(1);
}
const stats = new Map<string, { calls: number; ms: number }>();
let timing = false;
const target = cpu as unknown as Record<string, unknown>;
for (const name of Object.keys(target)) {
  const f = target[name];
  if (typeof f !== 'function' || ['setThreads', 'getThreads', 'isa', 'setIsa', 'setMatmulPrecision', 'matmulPrecision', 'liveBytes', 'pooledBytes', 'trimPool'].includes(name)) continue;
  target[name] = (...args: unknown[]) => {
    if (!timing) return (f as (...a: unknown[]) => unknown)(...args);
    const key = name === 'matmul' ? `matmul ${args[3]}x${args[4]}x${args[5]} ${args[6] ? 'T' : 'N'}${args[7] ? 'T' : 'N'}` : name;
    const t = performance.now();
    const r = (f as (...a: unknown[]) => unknown)(...args);
    const s = stats.get(key) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += performance.now() - t;
    stats.set(key, s);
    return r;
  };
}
// warm-up run (untimed), then the timed one
const w = mode === 'generate' ? (weights as 'fp32') : undefined;
runBench({ mode: mode as 'train', preset, batch: +batch, seq: +seq, steps: 1, warmup: 0, device: 'cpu', dtype: dtype as 'fp32', weights: w });
timing = true;
const t0 = performance.now();
const res = runBench({ mode: mode as 'train', preset, batch: +batch, seq: +seq, steps: +steps, warmup: 0, device: 'cpu', dtype: dtype as 'fp32', weights: w });
// the timed steps only (runBench's own clock; model construction excluded)
// (generate: ms_per_step is per decoded token, seq - 1 of them per generation; prefill is left out of the total)
const total = (res.ms_per_step as number) * +steps * (mode === 'generate' ? +seq - 1 : 1);
void t0;
const kernelMs = [...stats.values()].reduce((s, v) => s + v.ms, 0);
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { calls: v.calls, ms: Math.round(v.ms), share: +(v.ms / total).toFixed(3) }]);
console.log(JSON.stringify({ preset, mode, dtype, batch: +batch, seq: +seq, tokens_per_second: res.tokens_per_second, total_ms: Math.round(total), kernel_ms: Math.round(kernelMs), other_ms: Math.round(total - kernelMs), kernels: Object.fromEntries(rows) }, null, 1));
