// Generation on the real MiniMind model (tiny presets, random weights): the cached decode loop
// must give exactly what an argmax loop over the full, uncached sequence gives, for every era's
// attention variant, and batched rows must match rows run alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { generate } from '../../src/model/generate.js';
import { argmax } from '../../src/model/sampling.js';

const VOCAB = 97;

function tinyModel(preset: string, seed = 3): MiniMindForCausalLM {
  // Weight matrices 4x MiniMind's 0.02 init, so logits spread out (std about 0.6) and argmax is
  // never decided by float rounding; norms stay at 1.
  const m = new MiniMindForCausalLM(presetConfig(preset, { vocab_size: VOCAB, max_position_embeddings: 48 }), { seed });
  const scaled = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, p] of m.namedParameters()) {
    const data = Float32Array.from(p.toArray() as Float32Array);
    if (p.shape.length > 1) for (let i = 0; i < data.length; i++) data[i] *= 4;
    scaled.set(name, { shape: p.shape, data });
  }
  m.loadStateDict(scaled);
  return m;
}

// Reference: the whole sequence through the model each step, argmax of the last row.
function uncachedGreedy(model: MiniMindForCausalLM, prompt: number[], n: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = noGrad(() => scope(() => {
      const { logits } = model.forward(tensor(Int32Array.from(seq), [1, seq.length], 'int32'));
      const all = logits.toArray() as Float32Array;
      return all.slice((seq.length - 1) * VOCAB, seq.length * VOCAB);
    }));
    const next = argmax(row);
    out.push(next);
    seq.push(next);
  }
  return out;
}

for (const preset of ['tiny', 'tiny-3', 'tiny-moe', 'tiny-3-moe']) {
  test(`greedy with the KV cache equals the uncached argmax loop (${preset})`, () => {
    const model = tinyModel(preset);
    const prompt = [1, 17, 42, 5, 88, 23];
    const [r] = generate(model, prompt, { maxNewTokens: 20, temperature: 0, stopTokenIds: [] });
    assert.deepEqual(r.ids, uncachedGreedy(model, prompt, 20));
    assert.equal(r.finishReason, 'length');
    model.dispose();
  });
}

test('real model: batched rows (mixed prompt lengths) equal rows run alone; context limit honoured', () => {
  const model = tinyModel('tiny');
  const prompts = [[1, 5, 9], [1, 60, 61, 62, 63], [1, 7, 7]];
  const batched = generate(model, prompts, { maxNewTokens: 8, temperature: 0, stopTokenIds: [] });
  prompts.forEach((p, i) => assert.deepEqual(batched[i].ids, generate(model, p, { maxNewTokens: 8, temperature: 0, stopTokenIds: [] })[0].ids, `row ${i}`));
  // max_position_embeddings 48: a 40-token prompt leaves room for 9 new tokens.
  const long = Array.from({ length: 40 }, (_, i) => (i * 7) % VOCAB);
  const [r] = generate(model, long, { maxNewTokens: 100, temperature: 0.8, seed: 1, stopTokenIds: [] });
  assert.equal(r.ids.length, 9);
  assert.equal(r.finishReason, 'length');
  model.dispose();
});

test('real model: seeded sampling is reproducible and seeds differ', () => {
  const model = tinyModel('tiny');
  const opts = { maxNewTokens: 16, temperature: 1.2, topK: 40, topP: 0.95, stopTokenIds: [] };
  const a = generate(model, [1, 2, 3], { ...opts, seed: 9 })[0].ids;
  assert.deepEqual(generate(model, [1, 2, 3], { ...opts, seed: 9 })[0].ids, a);
  assert.notDeepEqual(generate(model, [1, 2, 3], { ...opts, seed: 10 })[0].ids, a);
  model.dispose();
});
