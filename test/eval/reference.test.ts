// Against references no one here wrote (needs .venv with transformers and pandas, and ../shared/data):
// tools/eval_reference.py runs MiniMind v1's eval_ceval.py steps with pandas, transformers'
// apply_chat_template, the HF tokenizer and a transformers forward pass, one question at a time, and
// lm-eval's _encode_pair / log-likelihood for loglik. Our batched results must match it: the v1
// prompt byte for byte and id for id on every C-Eval val question, and the scores and predictions of
// a small model folder on tricky CSV rows and on one real subject; and perplexity's total nats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { loadMcSplit } from '../../src/eval/mc-data.js';
import { evaluateMultipleChoice } from '../../src/eval/multiple-choice.js';
import { v1Messages } from '../../src/eval/prompts.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { CEVAL, V1_TOKENIZER, noBenchmarks, tinyModel, tmp, writeCsvs } from './helpers.js';

const PY = '.venv/bin/python';
function pythonMissing(): string | false {
  if (!existsSync(PY)) return `${PY} not found (bash tools/setup-venv.sh)`;
  const r = spawnSync(PY, ['-c', 'import pandas, transformers, torch, jinja2'], { encoding: 'utf8' });
  return r.status === 0 ? false : `${PY} lacks pandas / transformers / torch / jinja2 (bash tools/setup-venv.sh)`;
}
const skip = noBenchmarks || pythonMissing();

interface RefLine { file: string; index: number; prompt?: string; ids?: number[]; logits?: number[]; probs?: number[]; scores?: number[]; prediction?: string }

function reference(args: string[]): RefLine[] {
  const r = spawnSync(PY, ['tools/eval_reference.py', ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, `eval_reference.py failed:\n${r.stderr.slice(-3000)}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

// Rows that trip naive parsers and prompt builders: quoted newlines, commas, doubled quotes, spaces
// around the question (lm-eval strips them), English, and one long question for truncation.
const TRICKY = [
  'id,question,A,B,C,D,answer',
  '0,"下列关于税法基本原则的表述中，不正确的是____。\n（多行题干）","税收法定原则, 包括""要件""",税收公平原则,税收效率原则,实质课税原则,D',
  '1,"  The capital of France is ____.  ",Paris,London,Berlin,Madrid,A',
  `2,"${'甲公司是国内一家领先的新媒体、通信及移动增值服务公司，'.repeat(30)}问：",1.50,2,3,4,C`,
  '3,1+1=?,2,3,4,5,A',
  '',
].join('\n');

test('the v1 prompt and its ids equal transformers apply_chat_template + the HF tokenizer on every C-Eval val question', { skip }, async () => {
  const tok = Tokenizer.load(V1_TOKENIZER);
  const val = await loadMcSplit({ data: CEVAL, split: 'val' });
  const folder = join(tmp(), 'tok-only');
  saveModelFolder(folder, tinyModel(tok.vocabSize), { tokenizerDir: V1_TOKENIZER });
  const ref = reference([folder, join(CEVAL, 'ceval-exam', 'val'), '--prompts-only']);
  assert.equal(ref.length, 1346);
  const bySubjectIndex = new Map(ref.map((r) => [`${r.file.replace(/_val\.csv$/, '')}/${r.index}`, r]));
  let checked = 0;
  for (const q of val.questions) {
    const r = bySubjectIndex.get(`${q.subject}/${q.index}`)!;
    const prompt = tok.applyChatTemplate(v1Messages(q), { addGenerationPrompt: true });
    assert.equal(prompt, r.prompt, `${q.file}:${q.line}`);
    assert.deepEqual(tok.encode(prompt), r.ids, `${q.file}:${q.line}`);
    checked++;
  }
  assert.equal(checked, 1346);
});

test('letter and loglik scores and predictions equal the transformers reference (tricky rows and C-Eval logic, truncated to 100 tokens)', { skip }, async () => {
  const root = tmp();
  const folder = join(root, 'model');
  const tok = Tokenizer.load(V1_TOKENIZER);
  const model = tinyModel(tok.vocabSize, 3);
  saveModelFolder(folder, model, { tokenizerDir: V1_TOKENIZER });
  // One folder, so each method is one Python run: the tricky rows and C-Eval's logic subject. The
  // window of 100 tokens cuts the long tricky question and some of logic's (v1 used 512).
  const dir = writeCsvs(join(root, 'val'), { 'tricky_val.csv': TRICKY, 'logic_val.csv': readFileSync(join(CEVAL, 'ceval-exam', 'val', 'logic_val.csv'), 'utf8') });
  const split = await loadMcSplit({ data: root, split: 'val' });
  assert.deepEqual(split.subjects, ['logic', 'tricky']);
  for (const method of ['letter', 'loglik'] as const) {
    const ours = evaluateMultipleChoice(model, tok, split, { method, batchSize: 3, maxSeqLen: 100 });
    // No subject_mapping.json here, so no lm-eval description on either side.
    const ref = reference([folder, dir, '--method', method, '--max-seq-len', '100']);
    assert.equal(ref.length, ours.length);
    assert.ok(ours.some((o) => o.tokens === 100), 'some prompts were truncated');
    ref.forEach((r, i) => {
      const o = ours[i];
      assert.equal(`${o.question.subject}_val.csv/${o.question.index}`, `${r.file}/${r.index}`);
      const want = method === 'letter' ? r.logits! : r.scores!;
      const scale = Math.max(...want.map(Math.abs));
      const diff = Math.max(...o.scores.map((s, k) => Math.abs(s - want[k])));
      assert.ok(diff / scale < 1e-4, `${method} ${r.file} #${r.index}: ${o.scores} vs ${want}`);
      assert.equal(o.prediction, r.prediction, `${method} ${r.file} #${r.index}`);
      if (method === 'letter') o.secondary.forEach((p, k) => assert.ok(Math.abs(p - r.probs![k]) <= 1e-4 * r.probs![k]));
    });
  }
});

// transformers' causal-LM loss (mean over the shifted labels) times the number of predicted tokens is
// the total nats; one window, BOS first, so every token of the text is predicted.
const PPL_PY = `
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
folder, text = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(folder)
ids = [tok.bos_token_id] + tok(text, add_special_tokens=False).input_ids
x = torch.tensor([ids])
model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
with torch.no_grad():
    loss = model(input_ids=x, labels=x).loss.item()
print(json.dumps({'tokens': len(ids) - 1, 'nats': loss * (len(ids) - 1), 'bytes': len(text.encode('utf-8'))}))
`;

test('perplexity: total nats, tokens and bytes equal transformers (labels loss) on one window', { skip }, async () => {
  const { evaluatePerplexity } = await import('../../src/eval/perplexity.js');
  const root = tmp();
  const folder = join(root, 'model');
  const tok = Tokenizer.load(V1_TOKENIZER);
  const model = tinyModel(tok.vocabSize, 4);
  saveModelFolder(folder, model, { tokenizerDir: V1_TOKENIZER });
  const text = '满纸荒唐言，一把辛酸泪。The capital of France is Paris; 1 + 1 = 2.';
  const r = spawnSync(PY, ['-c', PPL_PY, folder, text], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const ref = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const ours = evaluatePerplexity(model, tok, [text]);
  assert.equal(ours.tokens, ref.tokens);
  assert.equal(ours.bytes, ref.bytes);
  assert.ok(Math.abs(ours.nats - ref.nats) / ref.nats < 1e-5, `${ours.nats} vs ${ref.nats}`);
});
