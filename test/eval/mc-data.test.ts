// Benchmark files: both layouts are found and detected, quoted fields with newlines parse, a malformed
// row or an answer outside A-D is reported with its file and line, and the shared C-Eval / CMMLU
// copies load with the question counts their READMEs give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { findSplitFiles, loadMcSplit } from '../../src/eval/mc-data.js';
import { mcSummary } from '../../src/eval/mc-report.js';
import type { McResult } from '../../src/eval/multiple-choice.js';
import { UserError } from '../../src/core/errors.js';
import { CEVAL, CMMLU, noBenchmarks, tmp, writeCsvs } from './helpers.js';

const CEVAL_VAL = [
  'id,question,A,B,C,D,answer',
  '0,"第一行\n第二行, 含逗号","选项 ""甲""",乙,丙,丁,B',
  '1,plain,1,2,3,4,D',
  '',
].join('\n');

test('C-Eval layout: {subject}_{split}.csv, quoted fields with newlines, commas and quotes', async () => {
  const root = tmp();
  writeCsvs(join(root, 'exam', 'val'), { 'logic_val.csv': CEVAL_VAL, 'law_val.csv': 'id,question,A,B,C,D,answer\n0,q,a,b,c,d,A\n' });
  writeCsvs(join(root, 'exam', 'dev'), { 'logic_dev.csv': 'id,question,A,B,C,D,answer,explanation\n0,d,a,b,c,d,C,because\n' });
  const s = await loadMcSplit({ data: root, split: 'val' });
  assert.equal(s.format, 'ceval');
  assert.deepEqual(s.subjects, ['law', 'logic']);
  const q = s.questions.find((x) => x.subject === 'logic' && x.index === 0)!;
  assert.equal(q.question, '第一行\n第二行, 含逗号');
  assert.deepEqual(q.options, ['选项 "甲"', '乙', '丙', '丁']);
  assert.equal(q.answer, 'B');
  assert.equal(q.id, '0');
  assert.equal(q.line, 2);
  // The row after a two-line record starts on line 4.
  assert.equal(s.questions.find((x) => x.subject === 'logic' && x.index === 1)!.line, 4);
  const dev = await loadMcSplit({ data: root, split: 'dev' });
  assert.equal(dev.questions[0].answer, 'C');
  const only = await loadMcSplit({ data: root, split: 'val', subjects: ['logic'] });
  assert.deepEqual(only.subjects, ['logic']);
  // the help says file-name stems: logic_val (and logic_val.csv) name the same subject
  for (const name of ['logic_val', 'logic_val.csv']) assert.deepEqual((await loadMcSplit({ data: root, split: 'val', subjects: [name] })).subjects, ['logic']);
  // --limit: the first questions of each subject
  const first = await loadMcSplit({ data: root, split: 'val', limit: 1 });
  assert.deepEqual(first.questions.map((q) => [q.subject, q.index]), [['law', 0], ['logic', 0]]);
});

test('CMMLU layout: {split}/{subject}.csv with an unnamed index column, detected from the header', async () => {
  const root = tmp();
  writeCsvs(join(root, 'test'), { 'agronomy.csv': ',Question,A,B,C,D,Answer\n0,"问题\n两行",甲,乙,丙,丁,C\n1,q2,a,b,c,d,A\n' });
  const s = await loadMcSplit({ data: root, split: 'test' });
  assert.equal(s.format, 'cmmlu');
  assert.equal(s.questions.length, 2);
  assert.equal(s.questions[0].question, '问题\n两行');
  assert.equal(s.questions[0].answer, 'C');
  // A folder of CSVs or one file given directly.
  assert.equal((await loadMcSplit({ data: join(root, 'test'), split: 'test' })).questions.length, 2);
  assert.equal((await loadMcSplit({ data: join(root, 'test', 'agronomy.csv'), split: 'test' })).subjects[0], 'agronomy');
});

test('a split without answers (C-Eval test) loads with no answers', async () => {
  const root = tmp();
  writeCsvs(join(root, 'test'), { 'logic_test.csv': 'id,question,A,B,C,D\n0,q,a,b,c,d\n' });
  const s = await loadMcSplit({ data: root, split: 'test' });
  assert.equal(s.questions[0].answer, undefined);
});

test('an answer outside A-D and a malformed row are reported with file and line', async () => {
  const root = tmp();
  const dir = writeCsvs(join(root, 'val'), { 'x_val.csv': 'id,question,A,B,C,D,answer\n0,"two\nlines",a,b,c,d,A\n1,q,a,b,c,d,E\n' });
  await assert.rejects(loadMcSplit({ data: root, split: 'val' }), (e: Error) => e instanceof UserError && e.message === `${join(dir, 'x_val.csv')}:4: answer 'E' is not one of A, B, C, D`);
  writeCsvs(dir, { 'x_val.csv': 'id,question,A,B,C,D,answer\n0,q,a,b,c,d,A\n1,q,a,b,c\n' });
  await assert.rejects(loadMcSplit({ data: root, split: 'val' }), (e: Error) => e instanceof UserError && e.message.startsWith(`${join(dir, 'x_val.csv')}:3: expected 7 columns`));
  writeCsvs(dir, { 'x_val.csv': 'id,prompt,A,B,C,D,answer\n0,q,a,b,c,d,A\n' });
  await assert.rejects(loadMcSplit({ data: root, split: 'val' }), (e: Error) => e instanceof UserError && /no question column/.test(e.message));
  await assert.rejects(loadMcSplit({ data: root, split: 'val', subjects: ['nope'] }), (e: Error) => e instanceof UserError && /unknown subject nope/.test(e.message));
  assert.throws(() => findSplitFiles(root, 'test'), (e: Error) => e instanceof UserError && /no test CSV files/.test(e.message));
});

test('shared C-Eval and CMMLU: question counts of their READMEs, categories from subject_mapping.json', { skip: noBenchmarks }, async () => {
  const val = await loadMcSplit({ data: CEVAL, split: 'val' });
  assert.equal(val.subjects.length, 52);
  assert.equal(val.questions.length, 1346);
  assert.deepEqual([...new Set([...val.info.values()].flatMap((i) => i.categories))].sort(), ['Humanities', 'Other', 'STEM', 'Social Science']);
  assert.equal(val.info.get('logic')?.nameZh, '逻辑学');
  const test_ = await loadMcSplit({ data: CEVAL, split: 'test' });
  assert.equal(test_.questions.length, 12342);
  assert.ok(test_.questions.every((q) => q.answer === undefined));
  const cm = await loadMcSplit({ data: CMMLU, split: 'test' });
  assert.equal(cm.format, 'cmmlu');
  assert.equal(cm.subjects.length, 67);
  assert.equal(cm.questions.length, 11582);
  assert.deepEqual(cm.info.get('agronomy')?.categories, ['Other']);
  assert.deepEqual(cm.info.get('anatomy')?.categories, ['STEM']);
  assert.deepEqual(cm.info.get('ancient_chinese')?.categories, ['Social Science', 'China specific']);
});

test("MiniMind v1's own per-question val results (ceval_result) line up with our questions, and our arithmetic gives its 24.52 %", { skip: noBenchmarks }, async () => {
  // v1 wrote each row back from pandas: the same question, options and answer, then its llm_answer
  // and is_right; the last row of each file is a summary filled with '-'.
  const { readCsv } = await import('../../src/data/csv.js');
  const val = await loadMcSplit({ data: CEVAL, split: 'val' });
  let rows = 0;
  let right = 0;
  const letters: Record<string, number> = {};
  const v1Results: McResult[] = [];
  const v1FileAccuracy: Record<string, string> = {};
  for (const subject of val.subjects) {
    const mine = val.questions.filter((q) => q.subject === subject);
    const theirs = [];
    for await (const r of readCsv(join(CEVAL, 'ceval_result', `${subject}_val_result.csv`))) theirs.push(r.value);
    const summaryRow = theirs.pop()!;
    assert.equal(summaryRow.question, '-');
    v1FileAccuracy[subject] = summaryRow.answer.split(': ')[1]; // '文件 x_val.csv 的正确率: 24.49%'
    assert.equal(theirs.length, mine.length, subject);
    theirs.forEach((t, i) => {
      assert.deepEqual([t.question, t.A, t.B, t.C, t.D, t.answer], [mine[i].question, ...mine[i].options, mine[i].answer], `${subject} #${i}`);
      assert.equal(t.is_right, t.llm_answer === t.answer ? '1' : '0');
      letters[t.llm_answer] = (letters[t.llm_answer] ?? 0) + 1;
      v1Results.push({ question: mine[i], scores: [0, 0, 0, 0], secondary: [0, 0, 0, 0], prediction: t.llm_answer as McResult['prediction'], tokens: 0 });
      right += Number(t.is_right);
      rows++;
    });
  }
  // ceval/README.md: 1346 questions, 330 correct (24.52 %); C 774, A 398, D 137, B 37 answers.
  assert.equal(rows, 1346);
  assert.equal(right, 330);
  assert.deepEqual(letters, { A: 398, B: 37, C: 774, D: 137 });
  // Our accuracy arithmetic on v1's predictions gives v1's figures: the total and every file's.
  const s = mcSummary(v1Results, val, 'letter');
  assert.equal(s.correct, 330);
  assert.equal(`${(100 * s.accuracy).toFixed(2)}%`, '24.52%');
  for (const [subject, e] of Object.entries(s.subjects)) assert.equal(`${(100 * e.accuracy).toFixed(2)}%`, v1FileAccuracy[subject], subject);
});
