// Decode-step throughput of the ragged batch (src/model/batch-decode.ts), without HTTP or prefill:
// one decodeStep over B sequences at different positions, against the same B sequences stepped one
// at a time (B decodeSteps of one row), alternating so both see the same machine load. Prints one
// JSON line: tokens/s both ways and their ratio per B. The server's concurrency gain is bounded by
// this ratio. Where the backend has a fused batch-1 decode step (fused-decode.ts: what `minimind
// generate` uses for one sequence; the server's lone stream takes the ragged path), the same B rows
// stepped one at a time through it are timed too, as the strongest single-stream figure.
//
//   node dist/bench/batch-decode.js [--preset v1-small] [--batches 1,4,16] [--steps 16] [--rounds 5] [--weights fp32|bf16|q8]
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { MiniMindForCausalLM } from '../src/model/model.js';
import { presetConfig } from '../src/model/presets.js';
import { decodeStep, prefill } from '../src/model/batch-decode.js';
import { fusedDecoder } from '../src/model/fused-decode.js';
import { useInferenceWeights, type WeightFormat } from '../src/nn/inference-weights.js';
import type { KVCache } from '../src/model/kv-cache.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'v1-small' },
    batches: { type: 'string', default: '1,4,16' },
    steps: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '5' },
    weights: { type: 'string', default: 'fp32' },
  },
});
const steps = Number(values.steps);
const model = new MiniMindForCausalLM(presetConfig(values.preset!, { max_position_embeddings: 1024 }), { seed: 1 });
useInferenceWeights(model, values.weights as WeightFormat);

// B sequences with prompts of 20..40 tokens (so every row sits at its own position).
function sequences(B: number): KVCache[] {
  return Array.from({ length: B }, (_, b) => {
    const cache = model.newCache(1, 64 + steps * Number(values.rounds) * 3);
    prefill(model, Array.from({ length: 20 + ((b * 7) % 21) }, (_, i) => (b * 31 + i * 17) % 6000 + 300), cache);
    return cache;
  });
}

const rows: Record<string, unknown>[] = [];
for (const B of values.batches!.split(',').map(Number)) {
  const caches = sequences(B);
  const tokens = caches.map((_, b) => 400 + b);
  decodeStep(model, tokens, caches); // warm-up
  for (const c of caches) decodeStep(model, [7], [c]);
  const fused = caches.map((c) => fusedDecoder(model, c));
  const haveFused = fused.every((f) => f !== null);
  if (haveFused) fused.forEach((f, b) => f!.step(tokens[b]));
  let batched = 0;
  let alone = 0;
  let alonefused = 0;
  const ratios: number[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    let t0 = performance.now();
    for (let s = 0; s < steps; s++) decodeStep(model, tokens, caches);
    const tb = performance.now() - t0;
    t0 = performance.now();
    for (let s = 0; s < steps; s++) for (let b = 0; b < B; b++) decodeStep(model, [tokens[b]], [caches[b]]);
    const ta = performance.now() - t0;
    if (haveFused) {
      t0 = performance.now();
      for (let s = 0; s < steps; s++) for (let b = 0; b < B; b++) fused[b]!.step(tokens[b]);
      alonefused += performance.now() - t0;
    }
    batched += tb;
    alone += ta;
    ratios.push(ta / tb);
  }
  ratios.sort((a, b) => a - b);
  const n = steps * B * Number(values.rounds);
  rows.push({
    batch: B,
    batched_tokens_per_second: Math.round((n / batched) * 1000 * 10) / 10,
    one_at_a_time_tokens_per_second: Math.round((n / alone) * 1000 * 10) / 10,
    ms_per_batched_step: Math.round((batched / (steps * Number(values.rounds))) * 10) / 10,
    speedup_median_of_rounds: Math.round(ratios[ratios.length >> 1] * 100) / 100,
    ...(haveFused ? { fused_one_at_a_time_tokens_per_second: Math.round((n / alonefused) * 1000 * 10) / 10, speedup_vs_fused: Math.round((alonefused / batched) * 100) / 100 } : {}),
  });
  for (const f of fused) f?.dispose();
  for (const c of caches) c.dispose();
}
console.log(JSON.stringify({ preset: values.preset, weights: values.weights, machine: `${cpus().length} cores (${cpus()[0]?.model}), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`, rows }));
