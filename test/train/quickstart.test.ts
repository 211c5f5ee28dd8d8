// The quickstart's generated data (deterministic, held-out facts never asked in SFT but present in
// pretraining text) and a small end-to-end run of `minimind quickstart --small`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateQuickstartData, isCorrect } from '../../src/train/quickstart-data.js';
import { quickstart } from '../../src/train/quickstart.js';

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
  assert.equal(res.data_version, 2);
  assert.equal(r.heldOutByKind.capital.total + r.heldOutByKind.sum.total, r.heldOut);
  assert.ok(r.heldOutAccuracy >= 0 && r.heldOutAccuracy <= 1);
  assert.equal(r.samples.length, 6);
  assert.ok(res.sft_heldout_loss > 0 && Number.isFinite(res.sft_loss));
  rmSync(out, { recursive: true });
});
