// Generation pieces on hand-made logits, and the generation loop on fake models (see
// generate-fakes.ts): cache use, exact lengths, stop tokens and strings, seeds, batching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Rng } from '../../src/core/random.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { tensor } from '../../src/core/tensor.js';
import { repetitionPenalty, temperatureWarper, topKWarper, topPWarper, argmax, sampleLogits, makeSampler, rowRng, StopStringMatcher, logitsProcessors, frequencyPresencePenalty } from '../../src/model/sampling.js';
import { generate, generateStream, type TokenEvent } from '../../src/model/generate.js';
import { HashLM, ScriptLM, FixedLM, CharTokenizer, fakeConfig, type FakeCache } from './generate-fakes.js';

const MM2 = '../shared/data/minimind-tokenizer/minimind2';
const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
const tok = new CharTokenizer();

// ---- processors, warpers, samplers ----

test('repetition penalty is sign-aware: negative logits are multiplied, others divided, each token once', () => {
  const logits = f32([2, -2, 0.5, 1, 0]);
  repetitionPenalty(2)(logits, [0, 1, 1, 1, 4]); // token 1 seen 3 times: penalised once
  assert.deepEqual([...logits], [1, -4, 0.5, 1, 0]);
  const below1 = f32([2, -2]);
  repetitionPenalty(0.5)(below1, [0, 1]); // < 1 rewards instead
  assert.deepEqual([...below1], [4, -1]);
  assert.throws(() => repetitionPenalty(0), /> 0/);
});

test("OpenAI's frequency and presence penalties count only the generated tokens", () => {
  const row = Float32Array.of(1, 1, 1, 1);
  frequencyPresencePenalty(0.5, 0.25)(row, [1, 1, 2, 2, 2, 3], 3); // prompt [1, 1, 2]; generated [2, 2, 3]
  assert.deepEqual([...row], [1, 1, 1 - (2 * 0.5 + 0.25), 1 - (1 * 0.5 + 0.25)]);
  const twice = Float32Array.of(0, 0);
  frequencyPresencePenalty(1, 0)(twice, [1, 1], 0);
  assert.deepEqual([...twice], [0, -2]);
});

test('the penalties run before the warpers, in every caller (generate takes them too)', () => {
  const cfg = fakeConfig();
  const row = new Float32Array(cfg.vocab_size).fill(-1);
  row[10] = 5;
  row[11] = 4.9;
  const model = new FixedLM(cfg, row);
  assert.deepEqual(generate(model, [3], { maxNewTokens: 4, temperature: 0, presencePenalty: 0.2 })[0].ids, [10, 11, 10, 10]); // 5 - 0.2 < 4.9; then 4.8 > 4.7
  assert.deepEqual(generate(model, [10], { maxNewTokens: 2, temperature: 0, frequencyPenalty: 1 })[0].ids, [10, 11], 'the prompt is not counted');
});

test('temperature divides the logits', () => {
  const logits = f32([2, -1, 0.5]);
  temperatureWarper(0.5)(logits, []);
  assert.deepEqual([...logits], [4, -2, 1]);
});

test('top-k keeps the k largest (ties with the k-th kept)', () => {
  const a = f32([1, 3, 2, 3, 0]);
  topKWarper(2)(a, []);
  assert.deepEqual([...a], [-Infinity, 3, -Infinity, 3, -Infinity]);
  const b = f32([1, 3, 2, 3, 0]);
  topKWarper(3)(b, []);
  assert.deepEqual([...b], [-Infinity, 3, 2, 3, -Infinity]);
  const c = f32([1, 2]);
  topKWarper(5)(c, []); // k >= V: nothing masked
  assert.deepEqual([...c], [1, 2]);
});

test('top-p keeps the smallest set of most likely tokens reaching p, at least one', () => {
  const probs = [0.15, 0.5, 0.05, 0.3];
  const logits = () => f32(probs.map(Math.log));
  const a = logits();
  topPWarper(0.7)(a, []); // 0.5 < 0.7 → keep 0.3; 0.8 >= 0.7 → drop the rest
  assert.deepEqual([...a].map((x) => x !== -Infinity), [false, true, false, true]);
  const b = logits();
  topPWarper(0.85)(b, []); // 0.8 < 0.85 → also keep 0.15; 0.95 → drop 0.05
  assert.deepEqual([...b].map((x) => x !== -Infinity), [true, true, false, true]);
  const c = logits();
  topPWarper(0.1)(c, []); // the top token alone
  assert.deepEqual([...c].map((x) => x !== -Infinity), [false, true, false, false]);
});

test('argmax takes the first maximum; greedy ignores warpers', () => {
  assert.equal(argmax(f32([1, 5, 5, -2])), 1);
  assert.equal(logitsProcessors({ temperature: 0, topK: 1, topP: 0.1 }).length, 0);
  assert.equal(logitsProcessors({ temperature: 0, repetitionPenalty: 1.3 }).length, 1);
  assert.equal(logitsProcessors({ temperature: 0.7, topK: 5, topP: 0.9, repetitionPenalty: 1.1 }).length, 4);
});

test('sampling follows softmax and never draws a masked token', () => {
  const rng = new Rng(7);
  const logits = f32([Math.log(0.2), -Infinity, Math.log(0.8), -Infinity]);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[sampleLogits(logits, rng)]++;
  assert.equal(counts[1] + counts[3], 0);
  assert.ok(Math.abs(counts[2] / 4000 - 0.8) < 0.04, `frequency of the 0.8 token was ${counts[2] / 4000}`);
  assert.throws(() => sampleLogits(f32([-Infinity, -Infinity]), rng), /masked/);
});

test('the same seed gives the same draws; different seeds and rows give different ones', () => {
  const logits = new Float32Array(50); // uniform
  const draw = (rng: Rng): number[] => {
    const s = makeSampler(1, rng);
    return Array.from({ length: 30 }, () => s(logits));
  };
  assert.deepEqual(draw(rowRng(42, 0)), draw(rowRng(42, 0)));
  assert.notDeepEqual(draw(rowRng(42, 0)), draw(rowRng(43, 0)));
  assert.notDeepEqual(draw(rowRng(42, 0)), draw(rowRng(42, 1)));
});

test('stop-string matcher holds back possible prefixes and cuts before the stop string', () => {
  const m = new StopStringMatcher(['</end>', 'STOP']);
  assert.deepEqual(m.push('hello <'), { text: 'hello ', stopped: false });
  assert.deepEqual(m.push('/e'), { text: '', stopped: false });
  assert.deepEqual(m.push('x'), { text: '</ex', stopped: false }); // the prefix broke: released
  assert.deepEqual(m.push(' ST'), { text: ' ', stopped: false });
  assert.deepEqual(m.push('OP and more'), { text: '', stopped: true });
  const n = new StopStringMatcher(['ab']);
  assert.deepEqual(n.push('xxa'), { text: 'xx', stopped: false });
  assert.equal(n.flush(), 'a');
  assert.throws(() => new StopStringMatcher(['']), /empty/);
});

// ---- the generation loop ----

test('greedy with the KV cache equals an argmax loop that recomputes the whole sequence', () => {
  const model = new HashLM(fakeConfig());
  const prompt = tok.encode('the cat');
  const [r] = generate(model, prompt, { maxNewTokens: 12, temperature: 0 });
  // Reference: no cache, full sequence each step, last row's argmax.
  const seq = [...prompt];
  const expected: number[] = [];
  for (let i = 0; i < 12; i++) {
    const { logits } = model.forward(tensorOf([seq]));
    const all = logits.toArray() as Float32Array;
    const V = model.config.vocab_size;
    const next = argmax(all.subarray((seq.length - 1) * V, seq.length * V));
    expected.push(next);
    seq.push(next);
  }
  assert.deepEqual(r.ids, expected);
  assert.equal(r.finishReason, 'length');
});

test('decode loop shape: one step prefills every prompt, then one token per row per step', () => {
  const model = new HashLM(fakeConfig());
  generate(model, [tok.encode('abc'), tok.encode('wxyz')], { maxNewTokens: 5, temperature: 0 });
  assert.deepEqual(model.log.shapes, [[3, 4], [1, 1], [1, 1], [1, 1], [1, 1]]);
});

test("a lone sequence decodes through the model's fused batch-1 step, several through the ragged forward", () => {
  const model = new HashLM(fakeConfig());
  let fusedSteps = 0;
  // The same model with a fused step that counts its calls (and computes what the ragged forward would).
  const fusedModel = Object.assign(Object.create(model) as HashLM, {
    fusedDecoder: (cache: FakeCache) => ({ step: (t: number) => (fusedSteps++, model.forwardRagged([{ ids: [t], cache }])), dispose() {} }),
  });
  const want = generate(model, tok.encode('abc'), { maxNewTokens: 6, temperature: 0 })[0].ids;
  assert.deepEqual(generate(fusedModel, tok.encode('abc'), { maxNewTokens: 6, temperature: 0 })[0].ids, want);
  assert.equal(fusedSteps, 5, 'every decode step after the prefill');
  fusedSteps = 0;
  generate(fusedModel, [tok.encode('abc'), tok.encode('xy')], { maxNewTokens: 6, temperature: 0 });
  assert.equal(fusedSteps, 0);
});

test('max new tokens is honoured exactly when nothing stops', () => {
  const model = new HashLM(fakeConfig());
  for (const n of [0, 1, 7, 40]) {
    const [r] = generate(model, tok.encode('hi'), { maxNewTokens: n, temperature: 0.9, seed: 1 });
    assert.equal(r.ids.length, n);
    assert.equal(r.finishReason, 'length');
  }
});

test('a stop token ends the row and is not in ids or text (eos by default)', () => {
  const script = [...tok.encode('hello'), 2, ...tok.encode('junk')];
  const model = new ScriptLM(fakeConfig(), script, 3);
  const [r] = generate(model, tok.encode('say'), { maxNewTokens: 20, temperature: 0, tokenizer: tok });
  assert.deepEqual(r.ids, tok.encode('hello'));
  assert.equal(r.text, 'hello');
  assert.equal(r.finishReason, 'stop');
  // Another stop token, and none at all.
  const [r2] = generate(model, tok.encode('say'), { maxNewTokens: 20, temperature: 0, tokenizer: tok, stopTokenIds: tok.encode('l') });
  assert.equal(r2.text, 'he');
  const [r3] = generate(model, tok.encode('say'), { maxNewTokens: 8, temperature: 0, tokenizer: tok, stopTokenIds: [] });
  assert.equal(r3.ids.length, 8);
  assert.equal(r3.text, 'helloju'); // eos decodes to '' with skipSpecialTokens
});

test('a stop string ends the row, across tokens, and is not in the text; streamed text matches', () => {
  const model = new ScriptLM(fakeConfig(), tok.encode('one two. three'), 2);
  const events: TokenEvent[] = [];
  const [r] = generate(model, tok.encode('go'), { maxNewTokens: 30, temperature: 0, tokenizer: tok, stopStrings: ['. th', 'zzz'], onToken: (e) => events.push(e) });
  assert.equal(r.text, 'one two');
  assert.equal(r.finishReason, 'stop');
  assert.deepEqual(r.ids, tok.encode('one two. th')); // the tokens were generated; the text is cut
  assert.equal(events.map((e) => e.text).join(''), r.text);
  const last = events[events.length - 1];
  assert.equal(last.id, null);
  assert.equal(last.finishReason, 'stop');
  assert.equal(events.filter((e) => e.id !== null).length, r.ids.length);
});

test('text held back as a possible stop string is released when the row ends by length', () => {
  const model = new ScriptLM(fakeConfig(), tok.encode('abcabd'), 1);
  const events: TokenEvent[] = [];
  const [r] = generate(model, [3], { maxNewTokens: 5, temperature: 0, tokenizer: tok, stopStrings: ['abd'], onToken: (e) => events.push(e) });
  assert.equal(r.text, 'abcab');
  assert.equal(r.finishReason, 'length');
  assert.equal(events.map((e) => e.text).join(''), 'abcab');
  assert.throws(() => generate(model, [3], { maxNewTokens: 5, stopStrings: ['x'] }), /tokenizer/);
});

test('seeded sampling is reproducible, and different seeds differ', () => {
  const model = new HashLM(fakeConfig());
  const opts = { maxNewTokens: 24, temperature: 1.5, topK: 20, topP: 0.95, repetitionPenalty: 1.1 };
  const a = generate(model, tok.encode('once'), { ...opts, seed: 123 })[0].ids;
  const b = generate(model, tok.encode('once'), { ...opts, seed: 123 })[0].ids;
  const c = generate(model, tok.encode('once'), { ...opts, seed: 124 })[0].ids;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('batched prompts of different lengths give what each prompt gives alone', () => {
  const model = new HashLM(fakeConfig());
  const prompts = [tok.encode('ab'), tok.encode('hello'), tok.encode('xy'), tok.encode('q')];
  for (const opts of [{ temperature: 0 }, { temperature: 1, topK: 10, seed: 5 }]) {
    const batched = generate(model, prompts, { maxNewTokens: 9, ...opts });
    prompts.forEach((p, i) => {
      // Alone, row i needs the same per-row stream: run it as row i of a batch of copies.
      const alone = generate(model, prompts.map(() => p), { maxNewTokens: 9, ...opts })[i];
      assert.deepEqual(batched[i].ids, alone.ids, `row ${i}`);
    });
  }
  // Rows of a group finish independently: stop on row 0's first greedy token.
  const [p0, p1] = [tok.encode('xx'), tok.encode('yy')];
  const first0 = generate(model, p0, { maxNewTokens: 1, temperature: 0 })[0].ids[0];
  const rest1 = generate(model, p1, { maxNewTokens: 6, temperature: 0, stopTokenIds: [] })[0].ids;
  assert.ok(!rest1.includes(first0), 'pick prompts whose greedy continuations differ');
  const rs = generate(model, [p0, p1], { maxNewTokens: 6, temperature: 0, stopTokenIds: [first0] });
  assert.deepEqual(rs.map((r) => r.finishReason), ['stop', 'length']);
  assert.deepEqual(rs[0].ids, []);
  assert.deepEqual(rs[1].ids, rest1);
});

test('the context limit stops with length, never feeding a position past max_position_embeddings', () => {
  const model = new HashLM(fakeConfig({ max_position_embeddings: 8 }));
  const [r] = generate(model, tok.encode('abcde'), { maxNewTokens: 10, temperature: 0 });
  assert.equal(r.ids.length, 4); // fed positions 0..7; the 4th new token comes from position 7
  assert.equal(r.finishReason, 'length');
  assert.equal(model.log.maxPosition, 7);
  assert.throws(() => generate(model, tok.encode('abcdefghi'), { maxNewTokens: 1 }), /9 tokens, more than the model's 8 positions/);
  assert.throws(() => generate(model, [], { maxNewTokens: 1 }), /empty/);
  assert.throws(() => generate(model, [999], { maxNewTokens: 1 }), /outside the vocabulary/);
});

test('generateStream yields the same events as the callback', async () => {
  const model = new ScriptLM(fakeConfig(), [...tok.encode('hi there'), 2], 1);
  const events: TokenEvent[] = [];
  const results = generate(model, [4], { maxNewTokens: 20, temperature: 0, tokenizer: tok, onToken: (e) => events.push(e) });
  const streamed: TokenEvent[] = [];
  for await (const e of generateStream(model, [4], { maxNewTokens: 20, temperature: 0, tokenizer: tok })) streamed.push(e);
  assert.deepEqual(streamed, events);
  assert.equal(results[0].text, 'hi there');
});

function tensorOf(rows: number[][]) {
  return tensor(Int32Array.from(rows.flat()), [rows.length, rows[0].length], 'int32');
}

test('the repetition penalty in the loop sees the prompt and the generated tokens', () => {
  const cfg = fakeConfig();
  const row = new Float32Array(cfg.vocab_size).fill(-1);
  row[10] = 5;
  row[11] = 4.9;
  const model = new FixedLM(cfg, row);
  const g = (prompt: number[], rp: number) => generate(model, prompt, { maxNewTokens: 4, temperature: 0, repetitionPenalty: rp })[0].ids;
  assert.deepEqual(g([3], 1), [10, 10, 10, 10]);
  assert.deepEqual(g([3], 1.5), [10, 11, 10, 10]); // 5/1.5 = 3.33 < 4.9; then 3.33 vs 4.9/1.5 = 3.27
  assert.deepEqual(g([10], 1.5), [11, 10, 10, 10]); // a prompt token is penalised from the start
});

test('top-k 1 and a tiny top-p make sampling greedy, whatever the seed', () => {
  const model = new HashLM(fakeConfig());
  const greedy = generate(model, tok.encode('seed'), { maxNewTokens: 10, temperature: 0 })[0].ids;
  for (const seed of [1, 2, 3]) {
    assert.deepEqual(generate(model, tok.encode('seed'), { maxNewTokens: 10, temperature: 2, topK: 1, seed })[0].ids, greedy);
    assert.deepEqual(generate(model, tok.encode('seed'), { maxNewTokens: 10, temperature: 2, topP: 1e-6, seed })[0].ids, greedy);
  }
});

test('streamed text never splits a UTF-8 character (real tokenizer, an emoji spelled in 4 byte tokens)', { skip: existsSync(MM2) ? false : `${MM2} not found (needs ../shared/data)` }, () => {
  const real = Tokenizer.load(MM2);
  const script = real.encode('a🙂b龘');
  const model = new ScriptLM(fakeConfig({ vocab_size: 6400 }), [...script, 2], 1);
  const events: TokenEvent[] = [];
  const [r] = generate(model, [1], { maxNewTokens: 20, temperature: 0, tokenizer: real, onToken: (e) => events.push(e) });
  assert.equal(r.text, 'a🙂b龘');
  assert.ok(events.every((e) => !e.text.includes('\uFFFD')), JSON.stringify(events.map((e) => e.text)));
  assert.deepEqual(events.filter((e) => e.text !== '').map((e) => e.text), ['a', '🙂', 'b', '龘']);
  const [cut] = generate(model, [1], { maxNewTokens: 20, temperature: 0, tokenizer: real, stopStrings: ['🙂'] });
  assert.equal(cut.text, 'a');
});
