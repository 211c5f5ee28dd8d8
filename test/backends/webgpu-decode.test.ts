// The WebGPU fused batch-1 decode step (src/backends/webgpu/kernels/decode.ts via
// src/model/fused-decode.ts) against the generic decode path on the same backend and against the
// js backend: every step's logits for a v1-style model (interleaved RoPE), a minimind-3-style one
// (QK-norm, GQA) with a KV cache that has to grow; and greedy ids through generate(). Small models:
// CI runs it on lavapipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import { withBackend } from '../../src/core/device.js';
import { relErr } from './kernel-helpers.js';
import { tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { generate } from '../../src/model/generate.js';
import type { MiniMindConfig } from '../../src/model/config.js';
import { requireWebgpu, webgpuSkip as skip } from './webgpu-helpers.js';

/** Logits of every decode step after a prompt, through the generic path (one forward per token). */
function genericSteps(model: MiniMindForCausalLM, prompt: number[], feed: number[], capacity: number): Float32Array[] {
  const cache = model.newCache(1, capacity);
  const out: Float32Array[] = [];
  noGrad(() => scope(() => { model.forward(tensor(Int32Array.from(prompt), [1, prompt.length], 'int32'), { cache, lastOnly: true }); }));
  for (const t of feed) {
    out.push(noGrad(() => scope(() => model.forward(tensor(Int32Array.of(t), [1, 1], 'int32'), { cache, lastOnly: true }).logits.toArray() as Float32Array)));
  }
  cache.dispose();
  return out;
}

const cases: [string, string, Partial<MiniMindConfig>][] = [
  ['tiny, interleaved RoPE (v1 layout, head_dim 16)', 'tiny', { rope_interleaved: true }],
  ['tiny-3 (QK-norm, GQA 4/2)', 'tiny-3', {}],
];

for (const [name, preset, over] of cases) {
  test(`webgpu fused decode: ${name}: every step's logits equal the generic path's (relative error < 2e-6) and the js backend's (< 2e-6), fp32`, { skip, timeout: 300_000 }, () => {
    const webgpu = requireWebgpu();
    const cfg = presetConfig(preset, { vocab_size: 500, ...over });
    const prompt = [1, 17, 300, 52, 9, 400, 12];
    const feed = Array.from({ length: 24 }, (_, i) => (i * 131 + 7) % cfg.vocab_size);
    // capacity 16 < prompt + feed: the cache grows, so the decoder is made again over the new buffers
    const capacity = 16;
    const model = withBackend(webgpu, () => new MiniMindForCausalLM(cfg, { seed: 5 }));
    const want = withBackend(webgpu, () => genericSteps(model, prompt, feed, capacity));
    const got = withBackend(webgpu, () => {
      const cache = model.newCache(1, capacity);
      noGrad(() => scope(() => { model.forward(tensor(Int32Array.from(prompt), [1, prompt.length], 'int32'), { cache, lastOnly: true }); }));
      const dec = model.fusedDecoder(cache);
      assert.ok(dec, 'the fused decoder applies to this dense model');
      const out = feed.map((t) => dec!.step(t).slice());
      assert.equal(cache.length, prompt.length + feed.length, 'each step appends one position');
      dec!.dispose();
      cache.dispose();
      return out;
    });
    const js = withBackend(jsBackend, () => genericSteps(new MiniMindForCausalLM(cfg, { seed: 5 }), prompt, feed.slice(0, 6), capacity));
    let worst = 0;
    for (let i = 0; i < feed.length; i++) worst = Math.max(worst, relErr(got[i], want[i]));
    console.log(`# ${name}: fused vs generic max relative error ${worst.toExponential(2)} over ${feed.length} steps`);
    assert.ok(worst < 2e-6, `fused vs generic: relative error ${worst.toExponential(2)}`);
    for (let i = 0; i < js.length; i++) assert.ok(relErr(got[i], js[i]) < 2e-6, `fused vs js step ${i}: ${relErr(got[i], js[i]).toExponential(2)}`);
    model.dispose();
  });
}

test('webgpu fused decode: greedy ids through generate() equal the generic path\'s (MINIMIND_FUSED_DECODE=0)', { skip, timeout: 300_000 }, () => {
  const webgpu = requireWebgpu();
  const model = withBackend(webgpu, () => new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: 500 }), { seed: 11 }));
  const prompt = [1, 200, 300, 400];
  const run = (): number[] => withBackend(webgpu, () => generate(model, prompt, { maxNewTokens: 32, temperature: 0, stopTokenIds: [] })[0].ids);
  const fused = run();
  process.env.MINIMIND_FUSED_DECODE = '0';
  let generic: number[];
  try { generic = run(); } finally { delete process.env.MINIMIND_FUSED_DECODE; }
  assert.equal(fused.length, 32);
  assert.deepEqual(fused, generic);
  model.dispose();
});
