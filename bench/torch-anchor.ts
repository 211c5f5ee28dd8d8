// Ours against PyTorch in the same run: for each workload, `minimind bench` and then
// ../shared/anchors/torch_minimind.py with the anchor's settings (tcmalloc preloaded,
// GOMP_SPINCOUNT=10000, OPENBLAS_CORETYPE unset, /usr/bin/python3 = Debian's python3-torch), both on
// the same thread count, one after the other. Prints one JSON line per workload with both results and
// the ratios (tokens/s ours / PyTorch, peak RSS ours / PyTorch), then a summary line. Installs nothing.
//   node dist/bench/torch-anchor.js [--steps 3] [--warmup 1] [--threads 2] [--only <substring>] [--repeat 1]
//                                   [--python /usr/bin/python3] [--script ../shared/anchors/torch_minimind.py]
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { workloads, runOurs, runTorch, summary, torchMissing, DEFAULT_TORCH } from './workloads.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' }, warmup: { type: 'string' }, threads: { type: 'string' }, only: { type: 'string' }, repeat: { type: 'string' },
    python: { type: 'string' }, script: { type: 'string' },
  },
});
const threads = Number(values.threads ?? 2);
const repeat = Number(values.repeat ?? 1);
const setup = { python: values.python ?? DEFAULT_TORCH.python, script: values.script ?? DEFAULT_TORCH.script };
const missing = torchMissing(setup);
if (missing) {
  console.log(JSON.stringify({ bench: 'torch-anchor', error: missing }));
  process.exit(1);
}
const ratio = (a: unknown, b: unknown): number | null => (typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
const rows: Record<string, unknown>[] = [];
for (const w of workloads(Number(values.steps ?? 3), Number(values.warmup ?? 1))) {
  if (values.only && !w.name.includes(values.only)) continue;
  for (let r = 0; r < repeat; r++) {
    const ours = summary(runOurs(w.ours, threads));
    const torch = summary(runTorch(w.torch, threads, setup));
    const row = {
      bench: 'torch-anchor', workload: w.name, date: new Date().toISOString(), cpu: cpus()[0]?.model, threads, loadavg_1m: loadavg()[0],
      ours, torch, speed_ratio: ratio(ours.tokens_per_second, torch.tokens_per_second), rss_ratio: ratio(ours.peak_rss_mb, torch.peak_rss_mb),
    };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
}
console.log(JSON.stringify({ bench: 'torch-anchor', summary: rows.map((r) => ({ workload: r.workload, ours_tps: (r.ours as Record<string, unknown>).tokens_per_second, torch_tps: (r.torch as Record<string, unknown>).tokens_per_second, speed_ratio: r.speed_ratio, rss_ratio: r.rss_ratio })) }));
