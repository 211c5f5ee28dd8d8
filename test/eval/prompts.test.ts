// The prompt texts, written out by hand from their sources: MiniMind v1's eval_ceval.py f-string and
// system message through v1's chat template (tokenizer_config.json), and lm-eval's ceval / cmmlu
// doc_to_text and task descriptions. reference.test.ts checks the same against transformers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { McQuestion } from '../../src/eval/mc-data.js';
import { lmEvalContext, lmEvalDescription, lmEvalDocText, pyStrip, v1Messages, v1UserPrompt } from '../../src/eval/prompts.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { V1_TOKENIZER, noBenchmarks } from './helpers.js';

const q: McQuestion = { subject: 'logic', index: 0, question: ' 1+1=?\n', options: ['1', '2', '3', '4'], answer: 'B', file: 'x.csv', line: 2 };

test('v1 prompt through the v1 chat template, byte for byte', { skip: noBenchmarks }, () => {
  const tok = Tokenizer.load(V1_TOKENIZER);
  assert.equal(v1UserPrompt(q), ' 1+1=?\n。选择 A: 1, B: 2, C: 3, D: 4');
  const text = tok.applyChatTemplate(v1Messages(q), { addGenerationPrompt: true });
  // v1's template emits the system message raw, then <s>user\n{q}</s>\n<s>assistant\n.
  assert.equal(text, '开始回答问题<s>user\n 1+1=?\n。选择 A: 1, B: 2, C: 3, D: 4</s>\n<s>assistant\n');
  // The letters are the single tokens 35..38, as the spec records for v1.
  assert.deepEqual(['A', 'B', 'C', 'D'].map((l) => tok.encode(l)), [[35], [36], [37], [38]]);
});

test("lm-eval's doc_to_text, descriptions and few-shot context", () => {
  assert.equal(lmEvalDocText(q), '1+1=?\nA. 1\nB. 2\nC. 3\nD. 4\n答案：');
  assert.equal(lmEvalDescription('ceval', '逻辑学'), '以下是中国关于逻辑学的单项选择题，请选出其中的正确答案。\n\n');
  assert.equal(lmEvalDescription('cmmlu', '农学'), '以下是关于农学的单项选择题，请直接给出正确答案的选项。\n\n');
  const shot: McQuestion = { ...q, question: 'x', answer: 'C' };
  assert.equal(lmEvalContext(q, [shot], 'D\n\n'), 'D\n\nx\nA. 1\nB. 2\nC. 3\nD. 4\n答案： C\n\n1+1=?\nA. 1\nB. 2\nC. 3\nD. 4\n答案：');
  // Python's str.strip(): Unicode whitespace (U+3000 included), but not U+FEFF or U+200B.
  assert.equal(pyStrip('\u3000\t a b \u00a0\n'), 'a b');
  assert.equal(pyStrip('\ufeffa\u200b'), '\ufeffa\u200b');
});
