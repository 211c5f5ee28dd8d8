// Batch-1 greedy decode, ours against llama.cpp (the node-llama-cpp devDependency, its prebuilt CPU
// binary) in the same run, on the same random model with the same weight type: a v1-small-shaped model
// (or --preset) is exported to GGUF (f32 | bf16 | q8_0) for llama.cpp and converted in place with
// --weights fp32 | bf16 | q8 for us. Both decode --tokens tokens after a --prompt-len-token prompt, same
// thread count; rounds alternate the two, the best round of each is kept. llama.cpp keeps its defaults
// otherwise (f16 KV cache). Ours decodes as generate() does (the fused step; MINIMIND_FUSED_DECODE=0
// for the generic path). Prints one JSON line per weight type.
//   node dist/bench/llama-cpp-decode.js [--preset v1-small] [--types q8,bf16,fp32] [--tokens 128] [--rounds 3] [--threads 2]
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadCpuBackend, cpuLoadError } from '../src/backends/cpu/index.js';
import { setBackend } from '../src/core/device.js';
import { tensor } from '../src/core/tensor.js';
import { scope } from '../src/core/scope.js';
import { noGrad } from '../src/core/autograd.js';
import { Rng } from '../src/core/random.js';
import { MiniMindForCausalLM } from '../src/model/model.js';
import { presetConfig } from '../src/model/presets.js';
import { exportGguf } from '../src/formats/gguf-export.js';
import { useInferenceWeights, type WeightFormat } from '../src/nn/inference-weights.js';
import { argmax } from '../src/model/sampling.js';

const { values } = parseArgs({
  options: { preset: { type: 'string' }, types: { type: 'string' }, tokens: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' }, 'prompt-len': { type: 'string' } },
});
const TOKENIZER = '../shared/data/minimind-tokenizer/minimind2';
const preset = values.preset ?? 'v1-small';
const nTok = Number(values.tokens ?? 128);
const rounds = Number(values.rounds ?? 3);
const threads = Number(values.threads ?? 2);
const promptLen = Number(values['prompt-len'] ?? 16);
const GGUF_TYPE: Record<WeightFormat, 'f32' | 'bf16' | 'q8_0'> = { fp32: 'f32', bf16: 'bf16', q8: 'q8_0' };

const cpu = loadCpuBackend();
if (!cpu) throw new Error(cpuLoadError() ?? 'native backend missing');
cpu.setThreads(threads);
setBackend(cpu);
const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
const dir = mkdtempSync(join(tmpdir(), 'mm-llama-bench-'));
const config = presetConfig(preset);
const rng = new Rng(7);
const prompt = Array.from({ length: promptLen }, () => 3 + rng.int(config.vocab_size - 3));

/**
 * Decode tokens/s of our greedy loop (prefill, then single-token steps with the KV cache), the way
 * generate() decodes: through the fused decode step where it applies (MINIMIND_FUSED_DECODE=0: the
 * generic layer-by-layer path).
 */
function oursOnce(model: MiniMindForCausalLM): { tps: number; ids: number[]; fused: boolean } {
  return noGrad(() => {
    const cache = model.newCache(1, promptLen + nTok);
    const ids: number[] = [];
    let next = scope(() => argmax(model.forward(tensor(Int32Array.from(prompt), [1, promptLen], 'int32'), { cache, lastOnly: true }).logits.toArray() as Float32Array));
    ids.push(next);
    const dec = model.fusedDecoder(cache);
    const t0 = performance.now();
    for (let i = 1; i < nTok; i++) {
      next = dec ? argmax(dec.step(next)) : scope(() => argmax(model.forward(tensor(Int32Array.of(next), [1, 1], 'int32'), { cache, lastOnly: true }).logits.toArray() as Float32Array));
      ids.push(next);
    }
    const dt = (performance.now() - t0) / 1000;
    dec?.dispose();
    cache.dispose();
    return { tps: (nTok - 1) / dt, ids, fused: dec !== null };
  });
}

try {
  for (const w of (values.types ?? 'q8,bf16,fp32').split(',') as WeightFormat[]) {
    const model = new MiniMindForCausalLM(config, { seed: 42 });
    const file = join(dir, `model-${w}.gguf`);
    exportGguf(model, TOKENIZER, file, { type: GGUF_TYPE[w], modelfile: false });
    useInferenceWeights(model, w);
    const lm = await llama.loadModel({ modelPath: file });
    const ctx = await lm.createContext({ contextSize: promptLen + nTok + 8, threads, batchSize: 512 });
    const llamaOnce = async (): Promise<{ tps: number; ids: number[] }> => {
      const seq = ctx.getSequence();
      const ids: number[] = [];
      let t0 = 0;
      for await (const t of seq.evaluate(prompt as never[], { temperature: 0 })) {
        ids.push(Number(t));
        if (ids.length === 1) t0 = performance.now();
        if (ids.length >= nTok) break;
      }
      const dt = (performance.now() - t0) / 1000;
      await seq.clearHistory();
      seq.dispose();
      return { tps: (nTok - 1) / dt, ids };
    };
    oursOnce(model); // warm-up
    await llamaOnce();
    const best = { ours: 0, llama: 0 };
    let same = 0;
    let fused = false;
    const load0 = loadavg()[0];
    for (let r = 0; r < rounds; r++) {
      const a = oursOnce(model);
      fused = a.fused;
      const b = await llamaOnce();
      best.ours = Math.max(best.ours, a.tps);
      best.llama = Math.max(best.llama, b.tps);
      same = a.ids.findIndex((v, i) => v !== b.ids[i]);
    }
    console.log(JSON.stringify({
      bench: 'llama-cpp-decode', preset, weights: w, gguf_type: GGUF_TYPE[w], threads, isa: cpu.isa(), ours_decode: fused ? 'fused step' : 'generic', tokens: nTok, rounds,
      ours_tokens_per_second: Math.round(best.ours * 10) / 10, llama_cpp_tokens_per_second: Math.round(best.llama * 10) / 10,
      ratio: Math.round((best.ours / best.llama) * 100) / 100, same_greedy_prefix: same === -1 ? nTok : same,
      loadavg_1m_start: load0, loadavg_1m_end: loadavg()[0], date: new Date().toISOString(),
    }));
    await ctx.dispose();
    await lm.dispose();
    model.dispose();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
