// The quickstart's generated data (deterministic, held-out facts never asked in SFT but present in
// pretraining text) and a small end-to-end run of `minimind quickstart --small`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateQuickstartData, isCorrect } from '../../src/train/quickstart-data.js';
import { quickstart } from '../../src/train/quickstart.js';

test('quickstart data: same seed → same data; held-out facts are in pretraining text but never in SFT', () => {
  const a = generateQuickstartData(42);
  assert.deepEqual(generateQuickstartData(42), a);
  assert.notDeepEqual(generateQuickstartData(43).heldOut, a.heldOut);
  assert.equal(a.heldOut.length, 120); // 10 countries + 20 sums, 4 questions each
  const sftText = JSON.stringify(a.sftConversations);
  const pretrain = a.pretrainTexts.join('\n');
  for (const q of a.heldOut) {
    assert.ok(!sftText.includes(JSON.stringify(q.question)), `held-out question in SFT: ${q.question}`);
    assert.ok(!sftText.includes(q.answer), `held-out answer in SFT: ${q.answer}`);
    assert.ok(pretrain.includes(q.answer.replace(/^.*?(\S+)$/, '$1')), `fact missing from pretraining: ${q.answer}`);
  }
  assert.ok(a.pretrainTexts.some((t) => /[\u4e00-\u9fff]/.test(t)) && a.pretrainTexts.some((t) => /^[A-Z0-9]/.test(t)));
});

test('isCorrect: capitals by name, sums by the last number', () => {
  const cap = { kind: 'capital' as const, lang: 'en' as const, question: '', answer: '', expected: 'Paris' };
  assert.ok(isCorrect(cap, 'The capital of France is Paris.'));
  assert.ok(!isCorrect(cap, 'The capital of France is Rome.'));
  const sum = { kind: 'sum' as const, lang: 'zh' as const, question: '', answer: '', expected: '12' };
  assert.ok(isCorrect(sum, '5加7等于12。'));
  assert.ok(!isCorrect(sum, '5加7等于11。'));
  assert.ok(!isCorrect(sum, '5加7等于'));
});

test('minimind quickstart --small runs the whole pipeline and writes the run folder', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mm-qs-'));
  const r = await quickstart({ small: true, out });
  for (const f of ['data/pretrain.jsonl', 'data/sft.jsonl', 'tokenizer/tokenizer.json', 'pretrain/model/model.safetensors', 'sft/model/config.json', 'sft/report.html', 'results.json']) {
    assert.ok(existsSync(join(out, f)), `missing ${f}`);
  }
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(res.heldout_answers.length, 120);
  assert.ok(r.heldOutAccuracy >= 0 && r.heldOutAccuracy <= 1);
  assert.equal(r.samples.length, 6);
  assert.ok(res.sft_heldout_loss > 0 && Number.isFinite(res.sft_loss));
  rmSync(out, { recursive: true });
});
