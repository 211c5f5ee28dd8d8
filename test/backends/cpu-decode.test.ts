// The fused batch-1 decode step of the native CPU backend (src/backends/cpu/decode.cc via
// src/model/fused-decode.ts) against the generic decode path (one forward per token through the
// ops): it calls the same kernels with the same inputs, so every step's logits must be bit for bit
// equal, for fp32, bf16 and q8 weights, every ISA path, 1 and 2 threads, a v1 model (interleaved
// RoPE), minimind-3 ones (QK-norm, GQA, head_dim 96 and 16) and a KV cache that has to grow; and
// greedy ids through generate() equal the generic path's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCpuBackend, cpuLoadError, ISA_LEVELS } from '../../src/backends/cpu/index.js';
import { withBackend } from '../../src/core/device.js';
import { tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { generate } from '../../src/model/generate.js';
import { useInferenceWeights, type WeightFormat } from '../../src/nn/inference-weights.js';
import type { MiniMindConfig } from '../../src/model/config.js';
import type { FeedForward } from '../../src/model/layers.js';
import type { FusedDecodeSpec } from '../../src/backends/backend.js';

const cpu = loadCpuBackend();
const skip = cpu === null ? `native CPU backend unavailable: ${cpuLoadError()}` : false;

/** Logits of every decode step after a prompt, through the generic path (one forward per token). */
function genericSteps(model: MiniMindForCausalLM, prompt: number[], feed: number[], capacity: number): Float32Array[] {
  const cache = model.newCache(1, capacity);
  noGrad(() => scope(() => { model.forward(tensor(Int32Array.from(prompt), [1, prompt.length], 'int32'), { cache, lastOnly: true }); }));
  const out = feed.map((t) => noGrad(() => scope(() => model.forward(tensor(Int32Array.of(t), [1, 1], 'int32'), { cache, lastOnly: true }).logits.toArray() as Float32Array)));
  cache.dispose();
  return out;
}

function fusedSteps(model: MiniMindForCausalLM, prompt: number[], feed: number[], capacity: number): Float32Array[] {
  const cache = model.newCache(1, capacity);
  noGrad(() => scope(() => { model.forward(tensor(Int32Array.from(prompt), [1, prompt.length], 'int32'), { cache, lastOnly: true }); }));
  const dec = model.fusedDecoder(cache);
  assert.ok(dec, 'the fused decoder applies to this dense model on the cpu backend');
  const out = feed.map((t) => dec!.step(t).slice());
  assert.equal(cache.length, prompt.length + feed.length, 'each step appends one position');
  dec!.dispose();
  cache.dispose();
  return out;
}

function assertBitwiseEqual(got: Float32Array[], want: Float32Array[], what: string): void {
  for (let s = 0; s < want.length; s++) {
    const g = new Uint32Array(got[s].buffer, got[s].byteOffset, got[s].length);
    const w = new Uint32Array(want[s].buffer, want[s].byteOffset, want[s].length);
    assert.equal(g.length, w.length);
    for (let i = 0; i < w.length; i++) {
      if (g[i] !== w[i]) assert.fail(`${what}: step ${s}, logit ${i}: fused ${got[s][i]} vs generic ${want[s][i]}`);
    }
  }
}

const cases: [string, string, Partial<MiniMindConfig>][] = [
  ['v1-small, interleaved RoPE', 'v1-small', { rope_interleaved: true }],
  ['minimind-3 (QK-norm, GQA 8/4, head_dim 96), 2 layers', 'minimind-3', { num_hidden_layers: 2 }],
  ['tiny-3 (QK-norm, head_dim 16)', 'tiny-3', {}],
];

for (const [name, preset, over] of cases) {
  for (const weights of ['fp32', 'bf16', 'q8'] as WeightFormat[]) {
    test(`cpu fused decode: ${name}, ${weights} weights: every step's logits equal the generic path's bit for bit (each ISA path, 1 and 2 threads)`, { skip, timeout: 300_000 }, () => {
      const be = cpu!;
      const cfg = presetConfig(preset, { vocab_size: 6400, ...over });
      const prompt = [1, 17, 300, 52, 9, 4000, 12];
      const feed = Array.from({ length: 24 }, (_, i) => (i * 131 + 7) % cfg.vocab_size);
      const capacity = 16; // < prompt + feed: the cache grows twice, so the decoder is made again over the new buffers
      const model = withBackend(be, () => new MiniMindForCausalLM(cfg, { seed: 5 }));
      withBackend(be, () => useInferenceWeights(model, weights));
      const threads0 = be.getThreads();
      const levels = ISA_LEVELS.filter((l) => l !== 'amx' && ISA_LEVELS.indexOf(l) >= ISA_LEVELS.indexOf(be.setIsa('best') as (typeof ISA_LEVELS)[number]));
      try {
        for (const isa of levels) {
          be.setIsa(isa);
          for (const threads of [1, 2]) {
            be.setThreads(threads);
            const want = withBackend(be, () => genericSteps(model, prompt, feed, capacity));
            const got = withBackend(be, () => fusedSteps(model, prompt, feed, capacity));
            assertBitwiseEqual(got, want, `${isa}, ${threads} thread(s)`);
          }
        }
      } finally {
        be.setIsa('best');
        be.setThreads(threads0);
        model.dispose();
      }
    });
  }
}

test('cpu fused decode: under bf16 GEMM precision (generate --dtype bf16) the logits still equal the generic path\'s bit for bit', { skip, timeout: 300_000 }, () => {
  const be = cpu!;
  const cfg = presetConfig('tiny-3', { vocab_size: 640 });
  const model = withBackend(be, () => new MiniMindForCausalLM(cfg, { seed: 9 }));
  const prompt = [1, 17, 300, 52, 9];
  const feed = Array.from({ length: 12 }, (_, i) => (i * 37 + 3) % cfg.vocab_size);
  const before = be.matmulPrecision();
  try {
    be.setMatmulPrecision('bf16');
    const want = withBackend(be, () => genericSteps(model, prompt, feed, 32));
    const got = withBackend(be, () => fusedSteps(model, prompt, feed, 32));
    assertBitwiseEqual(got, want, `bf16 precision (${be.matmulPrecision()} in effect)`);
  } finally {
    be.setMatmulPrecision(before);
    model.dispose();
  }
});

test('cpu fused decode: greedy ids through generate() equal the generic path\'s (MINIMIND_FUSED_DECODE=0), q8 and bf16 weights', { skip, timeout: 300_000 }, () => {
  for (const weights of ['q8', 'bf16'] as WeightFormat[]) {
    const model = withBackend(cpu!, () => new MiniMindForCausalLM(presetConfig('v1-small'), { seed: 11 }));
    withBackend(cpu!, () => useInferenceWeights(model, weights));
    const prompt = [1, 200, 300, 400];
    const run = () => withBackend(cpu!, () => generate(model, prompt, { maxNewTokens: 64, temperature: 0, stopTokenIds: [] })[0].ids);
    const fused = run();
    process.env.MINIMIND_FUSED_DECODE = '0';
    let generic: number[];
    try { generic = run(); } finally { delete process.env.MINIMIND_FUSED_DECODE; }
    assert.equal(fused.length, 64);
    assert.deepEqual(fused, generic, weights);
    model.dispose();
  }
});

test('cpu fused decode: a bad token or position is a RangeError, a short buffer is refused at creation, a disposed decoder an Error', { skip }, () => {
  const be = cpu!;
  const cfg = presetConfig('tiny', { vocab_size: 300 });
  const model = withBackend(be, () => new MiniMindForCausalLM(cfg, { seed: 1 }));
  const cache = withBackend(be, () => model.newCache(1, 8));
  const f = (t: { buf: unknown }) => t.buf as Float32Array;
  const spec: FusedDecodeSpec = {
    hidden: cfg.hidden_size, heads: cfg.num_attention_heads, kvHeads: cfg.num_key_value_heads, headDim: cfg.head_dim, ffn: cfg.intermediate_size,
    vocab: cfg.vocab_size, capacity: cache.capacity, interleaved: false, eps: cfg.rms_norm_eps,
    embed: f(model.model.embed_tokens.weight), finalNorm: f(model.model.norm.weight), lmHead: f(model.outputWeight), cos: f(model.rope.cos), sin: f(model.rope.sin),
    layers: model.model.layers.items.map((layer, l) => {
      const a = layer.self_attn;
      const mlp = layer.mlp as FeedForward;
      return {
        inputNorm: f(layer.input_layernorm.weight), wq: f(a.q_proj.weight), wk: f(a.k_proj.weight), wv: f(a.v_proj.weight), wo: f(a.o_proj.weight),
        qNorm: null, kNorm: null, postNorm: f(layer.post_attention_layernorm.weight),
        wGate: f(mlp.gate_proj.weight), wUp: f(mlp.up_proj.weight), wDown: f(mlp.down_proj.weight), kCache: f(cache.k[l]), vCache: f(cache.v[l]),
      };
    }),
  };
  const logits = new Float32Array(cfg.vocab_size);
  const dec = be.createDecoder!(spec);
  dec.step(5, 0, logits);
  assert.ok(logits.every(Number.isFinite));
  assert.throws(() => dec.step(300, 1, logits), RangeError, 'token outside the vocabulary');
  assert.throws(() => dec.step(5, cache.capacity, logits), /outside the KV cache/, 'position past the cache');
  assert.throws(() => dec.step(5, 1, new Float32Array(10)), RangeError, 'logits buffer too short');
  dec.dispose();
  assert.throws(() => dec.step(5, 1, logits), /disposed/);
  assert.throws(() => be.createDecoder!({ ...spec, capacity: cache.capacity * 2 }), /kCache.*needs/, 'a cache shorter than the capacity');
  assert.throws(() => be.createDecoder!({ ...spec, layers: spec.layers.map((l) => ({ ...l, wq: new Float32Array(4) })) }), /wq.*needs/);
  cache.dispose();
  model.dispose();
});
