// Batch-1 decode speed of one preset with each weight storage (--weights fp32 | bf16 | q8), run in
// alternation, several rounds, best round kept per format: on a shared machine the ratios between
// formats measured this way hold even when absolute speed drifts. Prints one JSON line.
//   node dist/bench/decode-weights.js [--preset v1-small] [--tokens 128] [--rounds 4] [--threads 2]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { runBench } from '../src/cli/commands/bench.js';
import { WEIGHT_FORMATS, type WeightFormat } from '../src/nn/inference-weights.js';

const { values } = parseArgs({ options: { preset: { type: 'string' }, tokens: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' } } });
const preset = values.preset ?? 'v1-small';
const rounds = Number(values.rounds ?? 4);
const best: Record<string, number> = {};
const all: Record<string, number[]> = {};
const load0 = loadavg()[0];
let isa: unknown = null;
for (let r = 0; r < rounds; r++) {
  for (const weights of WEIGHT_FORMATS as readonly WeightFormat[]) {
    const res = runBench({
      mode: 'generate', preset, batch: 1, seq: Number(values.tokens ?? 128), steps: 1, warmup: 1, device: 'cpu', dtype: 'fp32',
      threads: values.threads === undefined ? undefined : Number(values.threads), weights,
    });
    isa = res.isa;
    (all[weights] ??= []).push(Math.round(res.tokens_per_second * 10) / 10);
    best[weights] = Math.max(best[weights] ?? 0, res.tokens_per_second);
  }
}
const ratio = (w: string) => Math.round((best[w] / best.fp32) * 100) / 100;
console.log(JSON.stringify({
  bench: 'decode-weights', preset, isa, rounds, date: new Date().toISOString(), loadavg_1m_start: load0, loadavg_1m_end: loadavg()[0],
  best_tokens_per_second: Object.fromEntries(Object.entries(best).map(([k, v]) => [k, Math.round(v * 10) / 10])), vs_fp32: { bf16: ratio('bf16'), q8: ratio('q8') }, rounds_tokens_per_second: all,
}));
