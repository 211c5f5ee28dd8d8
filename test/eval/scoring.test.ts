// Batched scoring against plain forward passes: the letter method's scores are the logits of the
// tokens A-D at the last position of each question run alone; loglik's are the summed log-softmax
// of the continuation tokens; truncation keeps the last max_seq_len tokens; `positions` gathers the
// same logits as a full forward. Plus the accuracy and normalisation arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { LETTERS, type McQuestion, type McSplit } from '../../src/eval/mc-data.js';
import { encodePair, evaluateMultipleChoice, type McResult } from '../../src/eval/multiple-choice.js';
import { mcSummary } from '../../src/eval/mc-report.js';
import { LMEVAL_CONTINUATIONS, lmEvalContext, lmEvalDescription, v1Messages } from '../../src/eval/prompts.js';
import type { MiniMindForCausalLM } from '../../src/model/model.js';
import { tinyModel, tinyTokenizer } from './helpers.js';

const tok = tinyTokenizer();
const model = tinyModel(tok.vocabSize);

function question(i: number, subject = 'logic', answer: 'A' | 'B' | 'C' | 'D' | undefined = 'A'): McQuestion {
  // Lengths differ from question to question, so every batch is padded.
  const stem = '下列关于税法的表述中'.repeat(1 + (i % 4)) + ` #${i}`;
  return { subject, index: i, question: stem, options: [`甲${i}`, '乙', 'The capital', `${i * 7}`], answer, file: 'x.csv', line: i + 2 };
}

function split(questions: McQuestion[]): McSplit {
  const info = new Map([['logic', { nameZh: '逻辑学', categories: ['Humanities'] }], ['law', { nameZh: '法学', categories: ['Humanities', 'China specific'] }]]);
  return { format: 'ceval', split: 'val', subjects: [...new Set(questions.map((q) => q.subject))], questions, info };
}

/** Logits (V) at position t of ids run alone, unpadded. */
function plainLogits(m: MiniMindForCausalLM, ids: number[], t: number): Float32Array {
  return noGrad(() => scope(() => {
    const all = m.forward(tensor(Int32Array.from(ids), [1, ids.length], 'int32')).logits.toArray() as Float32Array;
    const V = m.config.vocab_size;
    return all.slice(t * V, (t + 1) * V);
  }));
}

function logSoftmax(x: Float32Array, id: number): number {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - max);
  return x[id] - max - Math.log(s);
}

function maxRelDiff(a: number[], b: number[]): number {
  const scale = Math.max(...b.map(Math.abs), 1e-30);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]))) / scale;
}

test('letter: batched scores equal the logits of a plain forward pass of each question', () => {
  const qs = Array.from({ length: 11 }, (_, i) => question(i));
  const results = evaluateMultipleChoice(model, tok, split(qs), { method: 'letter', batchSize: 4 });
  const letterIds = LETTERS.map((l) => tok.encode(l)[0]);
  let worst = 0;
  for (const r of results) {
    const ids = tok.encode(tok.applyChatTemplate(v1Messages(r.question), { addGenerationPrompt: true }));
    assert.equal(r.tokens, ids.length);
    const logits = plainLogits(model, ids, ids.length - 1);
    const want = letterIds.map((id) => logits[id]);
    worst = Math.max(worst, maxRelDiff(r.scores, want));
    const best = want.indexOf(Math.max(...want));
    assert.equal(r.prediction, LETTERS[best]);
    // v1's probabilities: softmax over the whole vocabulary, then the four letters.
    for (let k = 0; k < 4; k++) assert.ok(Math.abs(r.secondary[k] - Math.exp(logSoftmax(logits, letterIds[k]))) < 1e-6);
  }
  assert.ok(worst < 1e-5, `batched vs plain letter logits: max relative difference ${worst}`);
});

test('letter: prompts are cut from the left to max_seq_len, as v1 eval_answer does', () => {
  const qs = [question(3), question(1)];
  const results = evaluateMultipleChoice(model, tok, split(qs), { method: 'letter', batchSize: 2, maxSeqLen: 12 });
  for (const r of results) {
    const ids = tok.encode(tok.applyChatTemplate(v1Messages(r.question), { addGenerationPrompt: true })).slice(-12);
    assert.equal(r.tokens, 12);
    const logits = plainLogits(model, ids, 11);
    assert.ok(maxRelDiff(r.scores, LETTERS.map((l) => logits[tok.encode(l)[0]])) < 1e-5);
  }
});

test('loglik: batched sums equal the log-softmax of a plain forward pass over the continuation tokens', () => {
  const qs = Array.from({ length: 7 }, (_, i) => question(i));
  const s = split(qs);
  const results = evaluateMultipleChoice(model, tok, s, { method: 'loglik', batchSize: 3 });
  let multiToken = 0;
  for (const r of results) {
    const context = lmEvalContext(r.question, [], lmEvalDescription('ceval', '逻辑学'));
    const want = LMEVAL_CONTINUATIONS.map((cont) => {
      const { input, continuation } = encodePair(tok, context, cont, model.config.max_position_embeddings);
      if (continuation.length > 1) multiToken++;
      const full = [...input, continuation[continuation.length - 1]];
      // Position input.length - n + j predicts continuation[j].
      return continuation.reduce((acc, id, j) => acc + logSoftmax(plainLogits(model, full.slice(0, -1), input.length - continuation.length + j), id), 0);
    });
    assert.ok(maxRelDiff(r.scores, want) < 1e-5, `loglik ${r.scores} vs ${want}`);
    assert.equal(r.prediction, LETTERS[want.indexOf(Math.max(...want))]);
    assert.deepEqual(r.secondary, r.scores, 'acc_norm divides by the length of the choice string, 1 for a letter');
  }
  // This tokenizer has no ' A' merge, so the continuations are two tokens: the multi-position path ran.
  assert.ok(multiToken > 0);
});

test('loglik: encodePair moves trailing context spaces into the continuation and truncates as lm-eval does', () => {
  const a = encodePair(tok, 'abc  ', 'A', 100);
  const b = encodePair(tok, 'abc', '  A', 100);
  assert.deepEqual(a, b);
  const long = encodePair(tok, '下列关于税法的表述中'.repeat(5), ' B', 6);
  assert.equal(long.input.length, 6);
  const all = [...tok.encode('下列关于税法的表述中'.repeat(5)), ...long.continuation];
  assert.deepEqual(long.input, all.slice(-7, -1));
});

test('forward(positions) gathers the same logits as a full forward pass', () => {
  const ids = [[5, 9, 30, 41, 7], [12, 3, 3, 8, 100]];
  const flat = Int32Array.from(ids.flat());
  const V = model.config.vocab_size;
  noGrad(() => scope(() => {
    const full = model.forward(tensor(flat, [2, 5], 'int32')).logits.toArray();
    const picked = model.forward(tensor(flat, [2, 5], 'int32'), { positions: [2, 9, 5] }).logits;
    assert.deepEqual(picked.shape, [3, V]);
    const got = picked.toArray();
    [2, 9, 5].forEach((p, n) => assert.ok(maxRelDiff(Array.from(got.slice(n * V, (n + 1) * V)), Array.from(full.slice(p * V, (p + 1) * V))) < 1e-5));
    assert.throws(() => model.forward(tensor(flat, [2, 5], 'int32'), { positions: [10] }), /position 10 is outside 0..9/);
  }));
});

test('accuracy per subject, per category (overlapping) and in total; acc_norm counted separately', () => {
  const mk = (q: McQuestion, prediction: McResult['prediction'], predictionNorm?: McResult['prediction']): McResult => ({ question: q, scores: [0, 0, 0, 0], secondary: [0, 0, 0, 0], prediction, predictionNorm, tokens: 1 });
  const qs = [question(0, 'logic', 'A'), question(1, 'logic', 'B'), question(2, 'law', 'C'), question(3, 'law', 'D'), { ...question(4, 'law'), answer: undefined }];
  const results = [mk(qs[0], 'A', 'B'), mk(qs[1], 'B', 'B'), mk(qs[2], 'A', 'C'), mk(qs[3], 'D', 'D'), mk(qs[4], 'A', 'A')];
  const s = mcSummary(results, split(qs), 'loglik');
  assert.equal(s.questions, 5);
  assert.equal(s.total, 4); // the unanswered question is predicted, not scored
  assert.equal(s.correct, 3);
  assert.equal(s.accuracy, 0.75);
  assert.equal(s.correct_norm, 3);
  assert.deepEqual(s.subjects.logic, { total: 2, correct: 2, accuracy: 1, correct_norm: 1, accuracy_norm: 0.5, categories: ['Humanities'] });
  assert.deepEqual(s.subjects.law, { total: 2, correct: 1, accuracy: 0.5, correct_norm: 2, accuracy_norm: 1, categories: ['Humanities', 'China specific'] });
  assert.deepEqual(s.categories.Humanities, { total: 4, correct: 3, accuracy: 0.75, correct_norm: 3, accuracy_norm: 0.75 });
  assert.deepEqual(s.categories['China specific'], { total: 2, correct: 1, accuracy: 0.5, correct_norm: 2, accuracy_norm: 1 });
  const letter = mcSummary(results, split(qs), 'letter');
  assert.equal(letter.accuracy_norm, undefined);
});

test('few-shot: the first k answered dev questions of the subject come before the question', () => {
  const dev = split([question(20), question(21), question(22)]);
  const q = question(5);
  const results = evaluateMultipleChoice(model, tok, split([q]), { method: 'letter', shots: 2, dev, batchSize: 1 });
  const msgs = v1Messages(q, dev.questions.slice(0, 2));
  assert.equal(msgs.length, 6);
  assert.deepEqual(msgs.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant', 'user']);
  assert.equal(results[0].tokens, tok.encode(tok.applyChatTemplate(msgs, { addGenerationPrompt: true })).length);
  assert.throws(() => evaluateMultipleChoice(model, tok, split([q]), { method: 'letter', shots: 4, dev }), /dev split has 3 answered questions for subject logic/);
  const ctx = lmEvalContext(q, dev.questions.slice(0, 1), '');
  assert.ok(ctx.startsWith(`${dev.questions[0].question}\nA. 甲20\nB. 乙\nC. The capital\nD. 140\n答案： A\n\n`));
});
