// `minimind eval ceval|ppl` end to end on a tiny model folder: the --json object, the --out lines
// (which agree with it), predictions without answers, and one-line errors (exit 2) for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/core/random.js';
import { loadModelFolder, saveModelFolder } from '../../src/formats/hf-folder.js';
import { fromFloat32, readSafetensors, writeSafetensors } from '../../src/formats/safetensors.js';
import { applyLora, loadLora, mergeLora, saveLora } from '../../src/train/lora-adapter.js';
import { tinyModel, tinyTokenizer, tmp, writeCsvs } from './helpers.js';

const cli = 'dist/src/cli/main.js';
const root = tmp();
const modelDir = join(root, 'model');
{
  const tok = tinyTokenizer();
  tok.save(join(root, 'tok'));
  saveModelFolder(modelDir, tinyModel(tok.vocabSize), { tokenizerDir: join(root, 'tok') });
}
const data = join(root, 'bench');
writeCsvs(join(data, 'val'), {
  'logic_val.csv': 'id,question,A,B,C,D,answer\n0,"甲\n乙",a,b,c,d,A\n1,q,a,b,c,d,B\n2,q2,a,b,c,d,C\n',
  'law_val.csv': 'id,question,A,B,C,D,answer\n0,法,a,b,c,d,D\n',
});
writeCsvs(join(data, 'test'), { 'logic_test.csv': 'id,question,A,B,C,D\n0,q,a,b,c,d\n1,q,a,b,c,d\n' });
writeFileSync(join(data, 'subject_mapping.json'), JSON.stringify({ logic: ['Logic', '逻辑学', 'Humanities'], law: ['Law', '法学', 'Humanities'] }));

function mm(...args: string[]) {
  return spawnSync(process.execPath, [cli, 'eval', ...args], { encoding: 'utf8', env: { ...process.env, MINIMIND_THREADS: '1' } });
}

test('eval ceval --json: totals, subjects and categories; --out: one line per question that agrees', () => {
  for (const method of ['letter', 'loglik']) {
    const file = join(root, `results-${method}.jsonl`);
    const r = mm('ceval', '--model', modelDir, '--data', data, '--method', method, '--batch-size', '2', '--device', 'cpu', '--out', file, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.split, 'val');
    assert.equal(j.method, method);
    assert.equal(j.total, 4);
    assert.deepEqual(Object.keys(j.subjects), ['law', 'logic']);
    assert.equal(j.categories.Humanities.total, 4);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 4);
    assert.equal(lines.filter((l) => l.correct).length, j.correct);
    assert.equal(j.accuracy, j.correct / 4);
    for (const l of lines) assert.deepEqual(Object.keys(l.scores), ['A', 'B', 'C', 'D']);
    if (method === 'loglik') assert.ok('accuracy_norm' in j && lines.every((l) => 'prediction_norm' in l));
    else assert.ok(!('accuracy_norm' in j) && lines.every((l) => 'probs' in l));
  }
});

test('eval ceval on a split without answers writes predictions and scores nothing', () => {
  const file = join(root, 'test-preds.jsonl');
  const r = mm('ceval', '--model', modelDir, '--data', data, '--split', 'test', '--out', file, '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.questions, 2);
  assert.equal(j.total, 0);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.every((l) => l.answer === null && 'ABCD'.includes(l.prediction) && !('correct' in l)));
  const table = mm('ceval', '--model', modelDir, '--data', data, '--split', 'test');
  assert.match(table.stdout, /2 questions without an answer in the data: predicted, not scored/);
});

test('eval ppl --json prints tokens, bytes, loss, perplexity and bits per byte', () => {
  const txt = join(root, 'corpus.txt');
  writeFileSync(txt, '下列关于税法的表述中，不正确的是。The capital of France is Paris.\n'.repeat(5));
  const r = mm('ppl', '--model', modelDir, '--data', txt, '--max-seq-len', '32', '--stride', '16', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.bytes, Buffer.byteLength(readFileSync(txt, 'utf8')));
  assert.ok(Math.abs(j.loss - j.nats / j.tokens) < 1e-9 && Math.abs(j.perplexity - Math.exp(j.loss)) < 1e-6 * j.perplexity);
  assert.ok(Math.abs(j.bits_per_byte - j.nats / (Math.LN2 * j.bytes)) < 1e-9);
  assert.equal(j.max_seq_len, 32);
  assert.equal(j.stride, 16);
});

test('eval ceval --limit N: the first N questions of each subject; --subjects takes subject names and file-name stems; eval ppl --limit N: the first N documents', () => {
  const r = mm('ceval', '--model', modelDir, '--data', data, '--limit', '2', '--subjects', 'logic_val,law', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.total, 3); // logic: 2 of 3, law: its 1
  assert.deepEqual(Object.fromEntries(Object.entries(j.subjects).map(([k, v]) => [k, (v as { total: number }).total])), { law: 1, logic: 2 });
  const jsonl = join(root, 'docs.jsonl');
  writeFileSync(jsonl, ['The capital of France is Paris.', '下列关于税法的表述中', 'Two plus two is four.'].map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const one = JSON.parse(mm('ppl', '--model', modelDir, '--data', jsonl, '--limit', '1', '--json').stdout);
  const all = JSON.parse(mm('ppl', '--model', modelDir, '--data', jsonl, '--json').stdout);
  assert.equal(one.documents, 1);
  assert.equal(all.documents, 3);
  assert.equal(one.bytes, Buffer.byteLength('The capital of France is Paris.'));
});

test('eval ceval --adapter scores as the model with the adapter merged', () => {
  // An adapter with random B (a fresh one has B = 0 and would change nothing).
  const adapterDir = join(root, 'adapter');
  mkdirSync(adapterDir);
  const cfg = { rank: 4, alpha: 8, targets: 'all' as const };
  saveLora(adapterDir, applyLora(tinyModel(tinyTokenizer().vocabSize), cfg), cfg);
  const file = join(adapterDir, 'adapter_model.safetensors');
  const { tensors } = readSafetensors(file);
  const rng = new Rng(5);
  for (const [k, t] of tensors) if (k.includes('lora_B')) tensors.set(k, fromFloat32(Float32Array.from({ length: t.data.length }, () => rng.normal() * 0.5), t.shape));
  writeSafetensors(file, tensors, { format: 'pt' });
  const merged = loadModelFolder(modelDir).model;
  mergeLora(loadLora(merged, adapterDir).layers);
  const mergedDir = join(root, 'merged');
  saveModelFolder(mergedDir, merged, { tokenizerDir: join(root, 'tok') });

  const run = (...extra: string[]) => {
    const out = join(root, `adapter-${extra.length}-${Math.random().toString(36).slice(2)}.jsonl`);
    const r = mm('ceval', '--data', data, '--out', out, '--json', ...extra);
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  };
  const withAdapter = run('--model', modelDir, '--adapter', adapterDir);
  const mergedRes = run('--model', mergedDir);
  const plain = run('--model', modelDir);
  withAdapter.forEach((l, i) => {
    for (const k of ['A', 'B', 'C', 'D']) assert.ok(Math.abs(l.scores[k] - mergedRes[i].scores[k]) < 1e-4 * Math.max(1, Math.abs(l.scores[k])));
  });
  assert.ok(withAdapter.some((l, i) => Math.abs(l.scores.A - plain[i].scores.A) > 1e-3), 'the adapter changes the scores');
});

test('bad input: one minimind: line and exit 2, never a stack trace; --out never overwrites', () => {
  const bad = join(root, 'bad');
  writeCsvs(join(bad, 'val'), { 'x_val.csv': 'id,question,A,B,C,D,answer\n0,"q\nq",a,b,c,d,A\n1,q,a,b,c,d,F\n' });
  const existing = join(root, 'keep.jsonl');
  writeFileSync(existing, 'precious\n');
  const cases: [string[], RegExp][] = [
    [['ceval', '--model', modelDir, '--data', bad], new RegExp(`^minimind: ${join(bad, 'val', 'x_val.csv').replace(/[.]/g, '\\.')}:4: answer 'F' is not one of A, B, C, D$`)],
    [['ceval', '--model', modelDir, '--data', data, '--method', 'guess'], /^minimind: --method must be letter or loglik, got 'guess'$/],
    [['ceval', '--model', modelDir, '--data', data, '--out', existing], /^minimind: --out .* already exists/],
    [['ceval', '--model', join(root, 'nope'), '--data', data], /^minimind: model folder not found/],
    [['ceval', '--model', modelDir, '--data', data, '--device', 'tpu'], /^minimind: --device must be cpu, cuda, webgpu or auto, got 'tpu'$/],
    [['ceval', '--model', modelDir, '--data', data, '--dtype', 'fp16'], /^minimind: --dtype must be fp32 or bf16, got 'fp16'$/],
    [['ceval', '--model', modelDir, '--data', data, '--out', join(data, 'val', 'logic_val.csv'), '--overwrite'], /^minimind: --out .* is the same file as --data|overlap/],
    [['ceval', '--model', modelDir, '--data', data, '--shots', '9'], /^minimind: --shots 9: the dev split|^minimind: no dev CSV files/],
    [['ceval', '--model', modelDir, '--data', join(root, 'missing')], /^minimind: benchmark data not found/],
    [['ppl', '--model', modelDir, '--data', join(root, 'missing.txt')], /^minimind: data file not found/],
    [['ppl', '--model', modelDir, '--data', join(root, 'corpus.txt'), '--stride', '0'], /^minimind: --stride must be a positive integer/],
    [['ppl', '--model', modelDir, '--data', join(root, 'corpus.txt'), '--limit', '0'], /^minimind: --limit must be a positive integer, got '0'$/],
    [['ceval', '--model', modelDir, '--data', data, '--limit', 'all'], /^minimind: --limit must be a positive integer|^minimind: --limit must be a number/],
    [['ceval', '--model', modelDir, '--data', data, '--subjects', 'logic_test'], /^minimind: unknown subject logic_test in .* \(split val\); known: law, logic$/],
    [['frobnicate'], /^minimind: unknown eval subcommand 'frobnicate'/],
  ];
  for (const [args, re] of cases) {
    const r = mm(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const first = r.stderr.split('\n')[0];
    assert.match(first, re, args.join(' '));
    assert.ok(!/\n\s+at /.test(r.stderr), `stack trace for ${args.join(' ')}`);
  }
  assert.equal(readFileSync(existing, 'utf8'), 'precious\n');
});
