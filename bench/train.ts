// Training / forward / decode throughput and peak RSS of the native backend on the standard
// workloads (v1-small 8 x 512 fp32 and bf16, forward, decode, v1-moe 8 x 512, v1 108M 4 x 512),
// each in its own process. One JSON line per workload, then a summary line.
//   node dist/bench/train.js [--steps 3] [--warmup 1] [--threads 2] [--only <substring>]
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { workloads, runOurs, summary } from './workloads.js';

const { values } = parseArgs({ options: { steps: { type: 'string' }, warmup: { type: 'string' }, threads: { type: 'string' }, only: { type: 'string' } } });
const threads = Number(values.threads ?? process.env.MINIMIND_THREADS ?? availableParallelism());
const all: Record<string, unknown>[] = [];
for (const w of workloads(Number(values.steps ?? 3), Number(values.warmup ?? 1))) {
  if (values.only && !w.name.includes(values.only)) continue;
  const line = { bench: 'train', workload: w.name, date: new Date().toISOString(), ...summary(runOurs(w.ours, threads)) };
  console.log(JSON.stringify(line));
  all.push(line);
}
console.log(JSON.stringify({ bench: 'train', summary: all.map((l) => ({ workload: l.workload, tokens_per_second: l.tokens_per_second, peak_rss_mb: l.peak_rss_mb })) }));
