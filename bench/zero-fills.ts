// Zero fills per training step: wraps the native backend's fill() and counts the calls that write
// zeros (and the elements they write) during `minimind bench train` steps. The steady-state figure
// is (fills over 3 steps - fills over 1 step) / 2, so model construction, AdamW's zeroed moments
// and the first step's allocations drop out.
//   node dist/bench/zero-fills.js [preset] [batch] [seq]
import { loadCpuBackend, cpuLoadError } from '../src/backends/cpu/index.js';
import { runBench } from '../src/cli/commands/bench.js';

const [preset = 'v1-small', batch = '2', seq = '128'] = process.argv.slice(2);
const cpu = loadCpuBackend();
if (!cpu) {
  console.log(JSON.stringify({ error: cpuLoadError() }));
  process.exit(1);
}
let calls = 0;
let elements = 0;
const fill = cpu.fill.bind(cpu);
cpu.fill = (out, value, n) => {
  if (value === 0) {
    calls++;
    elements += n;
  }
  fill(out, value, n);
};
const count = (steps: number): { calls: number; elements: number } => {
  calls = elements = 0;
  runBench({ mode: 'train', preset, batch: +batch, seq: +seq, steps, warmup: 0, device: 'cpu', dtype: 'fp32' });
  return { calls, elements };
};
const one = count(1);
const three = count(3);
console.log(JSON.stringify({ preset, batch: +batch, seq: +seq, zero_fills_per_step: (three.calls - one.calls) / 2, zeroed_elements_per_step: (three.elements - one.elements) / 2, first_step: one }));
