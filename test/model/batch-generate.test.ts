// Ragged batched decoding (batch-decode.ts) and continuous batching (batch-generate.ts) on the real
// MiniMind model, every era's attention variant: a sequence decoded in a batch with others of
// other lengths and positions gets what generate() gives it alone — the same greedy tokens, the
// same seeded samples, logits equal up to float rounding — and its log-probs are log_softmax of
// an uncached full forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { generate } from '../../src/model/generate.js';
import { decodeStep, forwardRagged, prefill } from '../../src/model/batch-decode.js';
import { ContinuousBatch, generateBatch } from '../../src/model/batch-generate.js';
import { relErr } from './helpers.js';

const VOCAB = 97;
const PRESETS = ['tiny', 'tiny-3', 'tiny-moe', 'tiny-3-moe'];

function tinyModel(preset: string, seed = 3): MiniMindForCausalLM {
  // Weights 4x MiniMind's init so logits spread out and argmax is not decided by float rounding
  // (as generate-model.test.ts does).
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

// Logits of every position of one whole sequence, no cache.
function fullLogits(model: MiniMindForCausalLM, seq: number[]): Float32Array {
  return noGrad(() => scope(() => Float32Array.from(model.forward(tensor(Int32Array.from(seq), [1, seq.length], 'int32')).logits.toArray() as Float32Array)));
}

const PROMPTS = [[1, 5, 9], [1, 60, 61, 62, 63, 64, 65, 66], [1, 7], [1, 30, 31, 32, 33]];

for (const preset of PRESETS) {
  test(`decodeStep: rows at different positions equal each sequence's own cached forward (${preset})`, () => {
    const model = tinyModel(preset);
    const caches = PROMPTS.map(() => model.newCache(1));
    const refCaches = PROMPTS.map(() => model.newCache(1));
    PROMPTS.forEach((p, i) => {
      const a = prefill(model, p, caches[i]);
      const b = prefill(model, p, refCaches[i]);
      assert.deepEqual(a, b);
    });
    const tokens = [11, 22, 33, 44];
    const step = decodeStep(model, tokens, caches);
    assert.equal(step.length, PROMPTS.length * VOCAB);
    PROMPTS.forEach((_, i) => {
      const alone = prefill(model, [tokens[i]], refCaches[i]); // the same position through model.forward
      const row = step.subarray(i * VOCAB, (i + 1) * VOCAB);
      assert.ok(relErr(row, alone) < 1e-5, `row ${i}: rel err ${relErr(row, alone)}`);
      assert.equal(caches[i].length, PROMPTS[i].length + 1);
    });
    for (const c of [...caches, ...refCaches]) c.dispose();
    model.dispose();
  });

  test(`forwardRagged: whole prompts and single tokens in one step equal each sequence's own forward (${preset})`, () => {
    const model = tinyModel(preset);
    // Two sequences already hold a prompt and get one token; two new ones bring their whole prompt.
    const old = [PROMPTS[0], PROMPTS[1]].map((p) => {
      const cache = model.newCache(1);
      prefill(model, p, cache);
      return cache;
    });
    const fresh = [model.newCache(1), model.newCache(1)];
    const segments = [
      { ids: PROMPTS[2], cache: fresh[0] },
      { ids: [41], cache: old[0] },
      { ids: PROMPTS[3], cache: fresh[1] },
      { ids: [42], cache: old[1] },
    ];
    const got = forwardRagged(model, segments);
    const want = [
      fullLogits(model, PROMPTS[2]).slice((PROMPTS[2].length - 1) * VOCAB),
      fullLogits(model, [...PROMPTS[0], 41]).slice(PROMPTS[0].length * VOCAB),
      fullLogits(model, PROMPTS[3]).slice((PROMPTS[3].length - 1) * VOCAB),
      fullLogits(model, [...PROMPTS[1], 42]).slice(PROMPTS[1].length * VOCAB),
    ];
    want.forEach((w, s) => {
      const row = got.subarray(s * VOCAB, (s + 1) * VOCAB);
      assert.ok(relErr(row, w) < 1e-5, `segment ${s}: rel err ${relErr(row, w)}`);
    });
    assert.deepEqual(segments.map((g) => g.cache.length), [PROMPTS[2].length, PROMPTS[0].length + 1, PROMPTS[3].length, PROMPTS[1].length + 1]);
    for (const c of [...old, ...fresh]) c.dispose();
    model.dispose();
  });

  test(`generateBatch at temperature 0 equals generate() on each prompt alone (${preset})`, () => {
    const model = tinyModel(preset);
    const out = generateBatch(model, PROMPTS, { maxNewTokens: 12, temperature: 0, stopTokenIds: [] });
    assert.equal(out.length, PROMPTS.length);
    PROMPTS.forEach((p, i) => {
      const [alone] = generate(model, p, { maxNewTokens: 12, temperature: 0, stopTokenIds: [] });
      assert.deepEqual(out[i].ids, alone.ids, `prompt ${i}`);
      assert.equal(out[i].prompt, i);
      assert.equal(out[i].finishReason, 'length');
      assert.equal(out[i].promptTokens, p.length);
    });
    model.dispose();
  });
}

test('log-probs are log_softmax of an uncached forward over prompt + output', () => {
  const model = tinyModel('tiny-3');
  const out = generateBatch(model, PROMPTS.slice(0, 2), { maxNewTokens: 6, temperature: 0.9, topK: 20, seed: 4, stopTokenIds: [] });
  for (const r of out) {
    const p = PROMPTS[r.prompt];
    const seq = [...p, ...r.ids];
    const logits = fullLogits(model, seq);
    r.ids.forEach((id, j) => {
      const t = p.length - 1 + j; // the position that predicts output token j
      const row = logits.subarray(t * VOCAB, (t + 1) * VOCAB);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      assert.ok(Math.abs(r.logprobs[j] - (row[id] - lse)) < 1e-4, `token ${j}: ${r.logprobs[j]} vs ${row[id] - lse}`);
    });
  }
  model.dispose();
});

test('numReturnSequences: samples share one prefill yet equal generate() rows with the same seed streams', () => {
  const model = tinyModel('tiny');
  const opts = { maxNewTokens: 10, temperature: 1.1, topK: 30, topP: 0.9, seed: 21, stopTokenIds: [] };
  const out = generateBatch(model, [PROMPTS[1], PROMPTS[0]], { ...opts, numReturnSequences: 3 });
  assert.deepEqual(out.map((r) => [r.prompt, r.sample]), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
  // generate() row k draws from rowRng(seed, k), as generateBatch's result k does.
  const ref = generate(model, [PROMPTS[1], PROMPTS[1], PROMPTS[1], PROMPTS[0], PROMPTS[0], PROMPTS[0]], opts);
  out.forEach((r, k) => assert.deepEqual(r.ids, ref[k].ids, `result ${k}`));
  assert.ok(new Set(out.slice(0, 3).map((r) => r.ids.join())).size > 1, 'three samples of one prompt should not all be equal');
  // Without logprobs (a server's default) the same tokens come out, and no log-probabilities.
  const bare = generateBatch(model, [PROMPTS[1], PROMPTS[0]], { ...opts, numReturnSequences: 3, logprobs: false });
  assert.deepEqual(bare.map((r) => r.ids), out.map((r) => r.ids));
  assert.ok(bare.every((r) => r.logprobs.length === 0) && out.every((r) => r.logprobs.length === r.ids.length));
  // A batch limit smaller than the work changes nothing but the schedule.
  const limited = generateBatch(model, [PROMPTS[1], PROMPTS[0]], { ...opts, numReturnSequences: 3, maxBatch: 3 });
  assert.deepEqual(limited.map((r) => r.ids), out.map((r) => r.ids));
  model.dispose();
});

test('a prefill budget staggers admissions without changing any output', () => {
  const model = tinyModel('tiny');
  const free = new ContinuousBatch(model, {});
  const paced = new ContinuousBatch(model, { maxPrefillTokens: 6 });
  const runs = [free, paced].map((b) => {
    const seqs = PROMPTS.map((p) => b.add(p, { maxNewTokens: 5, temperature: 0, stopTokenIds: [] })[0]);
    const prefilled: number[] = [];
    let decoding = 0;
    while (b.step()) {
      prefilled.push(b.lastStepTokens - decoding); // the step fed one token to each sequence that was decoding before it
      decoding = seqs.filter((s) => s.ids.length > 0 && !s.done).length;
    }
    return { prefilled, ids: seqs.map((s) => s.ids) };
  });
  assert.equal(runs[0].prefilled[0], PROMPTS.flat().length, 'without a budget every prompt is prefilled in the first step');
  assert.ok(runs[1].prefilled.every((n) => n <= 6), `prompt tokens per step: ${runs[1].prefilled.join(' ')}`);
  assert.equal(runs[1].prefilled[0], 6, 'the 3-token prompt and the first 3 tokens of the 8-token one (longer than the budget: chunked)');
  assert.deepEqual(runs[1].ids, runs[0].ids);
  model.dispose();
});

test('chunked prefill: a prompt longer than the budget joins over several steps while the others keep decoding, with the output it gets alone', () => {
  for (const preset of ['tiny', 'tiny-3']) {
    const model = tinyModel(preset);
    const long = Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 90));
    const opts = { temperature: 0, stopTokenIds: [] };
    const batch = new ContinuousBatch(model, { maxPrefillTokens: 8 });
    const [a] = batch.add(PROMPTS[1], { ...opts, maxNewTokens: 12 });
    batch.step();
    const [b] = batch.add(long, { ...opts, maxNewTokens: 6 });
    let steps = 0;
    while (b.ids.length === 0) {
      const before = a.ids.length;
      batch.step();
      steps++;
      assert.equal(a.ids.length, before + 1, 'the running sequence gets its token every step');
      assert.ok(batch.lastStepTokens <= 8 + 1);
    }
    assert.equal(steps, 5, '40 prompt tokens at 8 per step');
    while (batch.step());
    const alone = generate(model, [PROMPTS[1]], { ...opts, maxNewTokens: 12 })[0].ids;
    const longAlone = generate(model, [long], { ...opts, maxNewTokens: 6 })[0].ids;
    assert.deepEqual(a.ids, alone);
    assert.deepEqual(b.ids, longAlone);
    model.dispose();
  }
});

test('continuous batching: sequences joining and leaving mid-stream get what they get alone; cancel frees the slot', () => {
  const model = tinyModel('tiny-3-moe');
  const batch = new ContinuousBatch(model, { maxBatch: 8 });
  const got = new Map<string, number[]>();
  const onEvent = (name: string) => (_s: unknown, e: { id: number | null }) => {
    if (e.id !== null) got.set(name, [...(got.get(name) ?? []), e.id]);
  };
  const opts = { temperature: 0, stopTokenIds: [] };
  batch.add(PROMPTS[0], { ...opts, maxNewTokens: 10 }, onEvent('a'));
  batch.step();
  batch.step();
  const [b] = batch.add(PROMPTS[1], { ...opts, maxNewTokens: 4 }, onEvent('b'));
  const [c] = batch.add(PROMPTS[2], { ...opts, maxNewTokens: 10 }, onEvent('c'));
  batch.step();
  assert.equal(batch.runningCount, 3);
  batch.step();
  batch.cancel(c);
  assert.equal(c.cache, null, 'a cancelled sequence frees its cache at once');
  assert.equal(batch.runningCount, 2);
  const afterCancel = got.get('c')!.length;
  while (batch.step());
  assert.equal(got.get('c')!.length, afterCancel, 'a cancelled sequence reports nothing more');
  assert.equal(b.finishReason, 'length');
  for (const [name, p, n] of [['a', PROMPTS[0], 10], ['b', PROMPTS[1], 4]] as const) {
    const [alone] = generate(model, p, { ...opts, maxNewTokens: n });
    assert.deepEqual(got.get(name), alone.ids, name);
  }
  assert.ok(batch.idle);
  model.dispose();
});

test('stop tokens, the context limit, and penalties', () => {
  const model = tinyModel('tiny');
  const [free] = generateBatch(model, [PROMPTS[0]], { maxNewTokens: 8, temperature: 0, stopTokenIds: [] });
  const stopAt = free.ids[3];
  const [stopped] = generateBatch(model, [PROMPTS[0]], { maxNewTokens: 8, temperature: 0, stopTokenIds: [stopAt] });
  assert.deepEqual(stopped.ids, free.ids.slice(0, free.ids.indexOf(stopAt)));
  assert.equal(stopped.finishReason, 'stop');
  // max_position_embeddings 48: a 40-token prompt leaves room for 9 new tokens.
  const long = Array.from({ length: 40 }, (_, i) => (i * 7) % VOCAB);
  const [r] = generateBatch(model, [long], { maxNewTokens: 100, temperature: 0, stopTokenIds: [] });
  assert.equal(r.ids.length, 9);
  assert.equal(r.finishReason, 'length');
  assert.throws(() => generateBatch(model, [Array(49).fill(1)], { maxNewTokens: 1 }), /more than the model's 48 positions/);
  // A huge presence penalty at T = 0 forbids any repeat of a generated token.
  const [np] = generateBatch(model, [PROMPTS[0]], { maxNewTokens: 20, temperature: 0, presencePenalty: 1e4, stopTokenIds: [] });
  assert.equal(new Set(np.ids).size, np.ids.length);
  const [plain] = generateBatch(model, [PROMPTS[0]], { maxNewTokens: 20, temperature: 0, stopTokenIds: [] });
  assert.ok(new Set(plain.ids).size < plain.ids.length, 'the unpenalised output repeats (else the penalty test proves nothing)');
  model.dispose();
});
