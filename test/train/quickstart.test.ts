// The quickstart's generated data (deterministic, held-out facts never asked in SFT but present in
// pretraining text) and a small end-to-end run of `minimind quickstart --small`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateQuickstartData, isCorrect } from '../../src/train/quickstart-data.js';
import { ANSWER_TOKENS, QUICKSTART_DATA_VERSION, quickstart } from '../../src/train/quickstart.js';

test('quickstart data: same seed → same data; held-out facts are in pretraining text but never asked in SFT, nor their commuted twins', () => {
  const a = generateQuickstartData(42);
  assert.deepEqual(generateQuickstartData(42), a);
  assert.notDeepEqual(generateQuickstartData(43).heldOut, a.heldOut);
  assert.equal(a.heldOut.filter((q) => q.kind === 'capital').length, 40); // 10 countries, 4 questions each
  assert.ok(a.heldOut.filter((q) => q.kind === 'sum').length >= 60);
  const sftText = JSON.stringify(a.sftConversations);
  const pretrain = a.pretrainTexts.join('\n');
  const asked = new Set(a.seen.filter((q) => q.kind === 'sum').map((q) => q.operands!.join('+')));
  for (const q of a.heldOut) {
    assert.ok(!sftText.includes(JSON.stringify(q.question)), `held-out question in SFT: ${q.question}`);
    assert.ok(!sftText.includes(q.answer), `held-out answer in SFT: ${q.answer}`);
    assert.ok(pretrain.includes(q.answer.replace(/^.*?(\S+)$/, '$1')), `fact missing from pretraining: ${q.answer}`);
    if (q.kind === 'sum') {
      const [x, y] = q.operands!;
      assert.ok(!asked.has(`${x}+${y}`) && !asked.has(`${y}+${x}`), `held-out sum ${x}+${y} or its twin was asked in SFT`);
    }
  }
  assert.ok(a.pretrainTexts.some((t) => /[\u4e00-\u9fff]/.test(t)) && a.pretrainTexts.some((t) => /^[A-Z0-9]/.test(t)));
});

test('quickstart data teaches multi-turn chat: SFT holds conversations of 2 and 3 turns of seen questions; every held-out question is asked once as turn 2 or 3 of a chat', () => {
  const a = generateQuickstartData(42);
  const turns = (c: { role: string }[]) => c.filter((m) => m.role === 'user').length;
  const multi = a.sftConversations.filter((c) => turns(c) > 1);
  assert.ok(multi.filter((c) => turns(c) === 2).length >= 60 && multi.filter((c) => turns(c) === 3).length >= 60, `${multi.length} multi-turn conversations`);
  const seenQ = new Set(a.seen.map((q) => q.question));
  for (const c of multi) for (const m of c.slice(2)) if (m.role === 'user') assert.ok(seenQ.has(m.content), `a later SFT turn asks an unseen question: ${m.content}`);
  const asked = a.heldOutChats.flatMap((c) => c.questions);
  assert.equal(asked.length, a.heldOut.length);
  assert.deepEqual(new Set(asked), new Set(a.heldOut));
  assert.ok(a.heldOutChats.every((c) => seenQ.has(c.opener) && c.questions.length >= 1 && c.questions.length <= 2));
});

test('isCorrect grades the whole answer: both operands and the result; the right capital and no other', () => {
  const cap = { kind: 'capital' as const, lang: 'en' as const, question: '', answer: '', expected: 'Paris' };
  assert.ok(isCorrect(cap, 'France is a country. The capital of France is Paris.'));
  assert.ok(!isCorrect(cap, 'The capital of France is Rome.'));
  assert.ok(!isCorrect(cap, 'The capital of France is Paris or Rome.'));
  const zh = { kind: 'capital' as const, lang: 'zh' as const, question: '', answer: '', expected: '巴西利亚' };
  assert.ok(isCorrect(zh, '巴西是一个国家。巴西的首都是巴西利亚。'));
  const sum = { kind: 'sum' as const, lang: 'zh' as const, question: '', answer: '', expected: '12', operands: [5, 7] as [number, number] };
  assert.ok(isCorrect(sum, '5加7等于12。'));
  assert.ok(isCorrect(sum, '7 plus 5 equals 12.'));
  assert.ok(!isCorrect(sum, '5加7等于11。'));
  assert.ok(!isCorrect(sum, '4加8等于12。'), 'the right result for the wrong question');
  assert.ok(!isCorrect(sum, '12'), 'the result alone');
  assert.ok(!isCorrect(sum, '5加7等于'));
});

test('minimind quickstart --small runs the whole pipeline and writes the run folder', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mm-qs-'));
  const r = await quickstart({ small: true, out });
  for (const f of ['data/pretrain.jsonl', 'data/sft.jsonl', 'tokenizer/tokenizer.json', 'pretrain/model/model.safetensors', 'sft/model/config.json', 'sft/report.html', 'results.json']) {
    assert.ok(existsSync(join(out, f)), `missing ${f}`);
  }
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(res.heldout_answers.length, generateQuickstartData(42).heldOut.length);
  assert.equal(res.data_version, QUICKSTART_DATA_VERSION);
  assert.equal(res.heldout_chat_answers.length, res.heldout_answers.length);
  assert.equal(r.heldOutChatByKind.capital.total + r.heldOutChatByKind.sum.total, r.heldOut);
  assert.ok(r.heldOutChatAccuracy >= 0 && r.heldOutChatAccuracy <= 1);
  // chat and serve decode as the model was evaluated: greedy, ANSWER_TOKENS new tokens
  const gc = JSON.parse(readFileSync(join(out, 'sft/model/generation_config.json'), 'utf8'));
  assert.equal(gc.do_sample, false);
  assert.equal(gc.max_new_tokens, ANSWER_TOKENS);
  // the held-out loss is measured during SFT, not only at its end: a curve in report.html
  const evals = readFileSync(join(out, 'sft/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => typeof m.eval_loss === 'number');
  assert.ok(evals.length >= 5, `${evals.length} held-out losses in sft/metrics.jsonl`);
  assert.equal(r.heldOutByKind.capital.total + r.heldOutByKind.sum.total, r.heldOut);
  assert.ok(r.heldOutAccuracy >= 0 && r.heldOutAccuracy <= 1);
  assert.equal(r.samples.length, 6);
  assert.equal(r.chatSample.length, 3);
  assert.equal(r.chatSample.filter((t) => t.correct !== undefined).length, 2);
  assert.ok(res.sft_heldout_loss > 0 && Number.isFinite(res.sft_loss));
  rmSync(out, { recursive: true });
});
