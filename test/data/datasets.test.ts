// Reading MiniMind's files: jsonl / csv / token .bin, malformed-line errors, the token cache,
// and the deterministic per-epoch shuffle that --resume relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMaxLength, openDataset, DatasetOptions } from '../../src/data/datasets.js';
import { readJsonl } from '../../src/data/jsonl.js';
import { parsePythonLiteral, readCsv } from '../../src/data/csv.js';
import { BatchPlan, readBatch } from '../../src/data/batches.js';
import { permutation } from '../../src/data/rng.js';
import { FakeTokenizer, ids } from './fake-tokenizer.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mm-data-'));
}
function opts(dir: string, file: string, extra: Partial<DatasetOptions> = {}): DatasetOptions {
  return { kind: 'pretrain', files: [file], tokenizer: new FakeTokenizer(), tokenizerKey: 'fake', maxLength: 64, cacheDir: join(dir, 'cache'), ...extra };
}

test('jsonl: a malformed line names file and line; skipBadLines skips and counts', async () => {
  const dir = tmp();
  const f = join(dir, 'p.jsonl');
  writeFileSync(f, '{"text": "a"}\n\n{"text": "b"\n{"text": "c"}\n[1]\n');
  await assert.rejects(async () => {
    for await (const _ of readJsonl(f));
  }, new RegExp(`${f}:3: invalid JSON`));
  const bad: number[] = [];
  const got: string[] = [];
  for await (const r of readJsonl(f, { skipBadLines: true, onBadLine: (_f, line) => bad.push(line) })) got.push(String(r.value.text));
  assert.deepEqual(got, ['a', 'c']);
  assert.deepEqual(bad, [3, 5]);
  const ds = await openDataset(opts(dir, f, { skipBadLines: true }));
  assert.equal(ds.size, 2);
  assert.equal(ds.badLines, 2);
  await assert.rejects(openDataset(opts(dir, f)), /p\.jsonl:3: invalid JSON/);
  rmSync(dir, { recursive: true });
});

test('missing file, wrong field, empty dataset and too-long max length are clear errors', async () => {
  const dir = tmp();
  await assert.rejects(openDataset(opts(dir, join(dir, 'nope.jsonl'))), /data file not found: .*nope\.jsonl/);
  const f = join(dir, 'x.jsonl');
  writeFileSync(f, '{"txt": "a"}\n');
  await assert.rejects(openDataset(opts(dir, f)), /x\.jsonl:1: missing field 'text'/);
  const e = join(dir, 'e.jsonl');
  writeFileSync(e, '\n\n');
  await assert.rejects(openDataset(opts(dir, e)), /no training samples in .*e\.jsonl/);
  const s = join(dir, 's.jsonl');
  writeFileSync(s, '{"conversations": [{"role": "user", "content": "hi"}]}\n');
  await assert.rejects(openDataset(opts(dir, s, { kind: 'sft' })), /no training samples.*no target tokens/);
  assert.throws(() => checkMaxLength(1024, 512), /max length 1024 is beyond the model's max_position_embeddings \(512\)/);
  checkMaxLength(512, 512);
  rmSync(dir, { recursive: true });
});

test('token cache: the second open reuses the cache without tokenizing; inputs changes rebuild it', async () => {
  const dir = tmp();
  const f = join(dir, 'sft.jsonl');
  const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ conversations: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `answer ${i}` }] }));
  writeFileSync(f, lines.join('\n') + '\n');
  const tok1 = new FakeTokenizer();
  const a = await openDataset(opts(dir, f, { kind: 'sft', tokenizer: tok1 }));
  assert.equal(a.fromCache, false);
  assert.ok(tok1.encodeCalls >= 20);
  const tok2 = new FakeTokenizer();
  const b = await openDataset(opts(dir, f, { kind: 'sft', tokenizer: tok2 }));
  assert.equal(b.fromCache, true);
  assert.equal(tok2.encodeCalls, 0);
  assert.equal(b.size, 20);
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(b.samples.get(i), a.samples.get(i));
  }
  assert.deepEqual(Array.from(b.samples.get(7).ids), ids(`<|im_start|>user\nq7<|im_end|>\n<|im_start|>assistant\nanswer 7<|im_end|>\n`));
  // another max length or tokenizer → another cache folder
  const c = await openDataset(opts(dir, f, { kind: 'sft', maxLength: 32 }));
  assert.equal(c.fromCache, false);
  const d = await openDataset(opts(dir, f, { kind: 'sft', tokenizerKey: 'other' }));
  assert.equal(d.fromCache, false);
  // touching the file (new mtime) invalidates too
  utimesSync(f, new Date(), new Date(Date.now() + 5000));
  const e = await openDataset(opts(dir, f, { kind: 'sft' }));
  assert.equal(e.fromCache, false);
  assert.equal(readdirSync(join(dir, 'cache')).filter((n) => n.includes('.tmp-')).length, 0);
  rmSync(dir, { recursive: true });
});

test('dpo: chosen and rejected are stored as a pair; a batch holds chosen rows then rejected rows', async () => {
  const dir = tmp();
  const f = join(dir, 'dpo.jsonl');
  const pair = (i: number) =>
    JSON.stringify({ chosen: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'good' }], rejected: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'bad' }] });
  writeFileSync(f, [0, 1, 2].map(pair).join('\n'));
  const ds = await openDataset(opts(dir, f, { kind: 'dpo' }));
  assert.equal(ds.size, 3);
  assert.equal(ds.group, 2);
  const plan = new BatchPlan(ds.size, { batchSize: 2, seed: 1, shuffle: false });
  const batch = readBatch(ds.samples, plan, 0, 0, 0, { group: 2 });
  assert.equal(batch.B, 4);
  const tok = new FakeTokenizer();
  const row = (r: number) => tok.decode(Array.from(batch.inputIds.slice(r * batch.T, (r + 1) * batch.T)).filter((x) => x !== 0));
  assert.match(row(0), /q0.*good/s);
  assert.match(row(1), /q1.*good/s);
  assert.match(row(2), /q0.*bad/s);
  assert.match(row(3), /q1.*bad/s);
  await assert.rejects(openDataset(opts(dir, f, { kind: 'dpo', files: [join(dir, 'x.csv')] })), /not found/);
  rmSync(dir, { recursive: true });
});

test('v1 csv: pretrain `text` and SFT `history,q,a` (last answer supervised), quoted cells', async () => {
  const dir = tmp();
  const p = join(dir, 'pretrain_data.csv');
  writeFileSync(p, 'text\n"hello, ""world""\nline2"\nplain\n');
  const rows: string[] = [];
  for await (const r of readCsv(p)) rows.push(r.value.text);
  assert.deepEqual(rows, ['hello, "world"\nline2', 'plain']);
  const pre = await openDataset(opts(dir, p));
  assert.deepEqual(Array.from(pre.samples.get(1).ids), [1, ...ids('plain'), 2]);
  const s = join(dir, 'sft_data.csv');
  writeFileSync(s, 'history,q,a\n"[[\'h1\', \'a1\']]",q2,a2\n[],q,a\n');
  const tok = new FakeTokenizer('v1');
  const sft = await openDataset(opts(dir, s, { kind: 'sft', tokenizer: tok }));
  const first = sft.samples.get(0);
  assert.equal(tok.decode(Array.from(first.ids)), '<s>user\nh1</s>\n<s>assistant\na1</s>\n<s>user\nq2</s>\n<s>assistant\na2</s>\n');
  const targets = tok.decode(Array.from(first.ids).filter((_, j) => first.mask![j]));
  assert.equal(targets, '\na2</s>\n');
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'history,q,a\n[],q\n');
  await assert.rejects(openDataset(opts(dir, bad, { kind: 'sft' })), /bad\.csv:2: expected 3 columns/);
  assert.deepEqual(parsePythonLiteral(`[['a\\'b', "c\\nd"], ('x', 1, None, True)]`), [["a'b", 'c\nd'], ['x', 1, null, true]]);
  rmSync(dir, { recursive: true });
});

test('v1 token .bin: windows of max length, every token a target', async () => {
  const dir = tmp();
  const f = join(dir, 'pretrain_data.bin');
  const toks = new Uint16Array(25).map((_, i) => i + 3);
  writeFileSync(f, Buffer.from(toks.buffer));
  const ds = await openDataset(opts(dir, f, { maxLength: 8 }));
  assert.equal(ds.size, 3);
  assert.deepEqual(Array.from(ds.samples.get(2).ids), Array.from(toks.slice(16, 24)));
  assert.equal(ds.samples.get(0).mask, null);
  rmSync(dir, { recursive: true });
});

test('shuffle: a seeded permutation per epoch; the same (seed, epoch) always gives the same batches', () => {
  const p = permutation(100, 7);
  assert.deepEqual(Array.from(p).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(permutation(100, 7), p);
  assert.notDeepEqual(permutation(100, 8), p);
  // a pinned value: guards against an accidental change of the generator (which would change data order)
  assert.deepEqual(Array.from(permutation(8, 42)), [2, 7, 1, 0, 6, 5, 3, 4]);
  const plan = new BatchPlan(10, { batchSize: 4, seed: 3 });
  assert.equal(plan.batchesPerEpoch, 3);
  const e0 = [0, 1, 2].map((s) => Array.from(plan.batchIndices(0, s)));
  const e1 = [0, 1, 2].map((s) => Array.from(plan.batchIndices(1, s)));
  assert.notDeepEqual(e0, e1);
  assert.equal(e0[2].length, 2);
  assert.deepEqual(e0.flat().sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
  const again = new BatchPlan(10, { batchSize: 4, seed: 3 });
  assert.deepEqual(Array.from(again.batchIndices(1, 2)), e1[2]); // what a resumed run at (1, 2) reads
  assert.equal(new BatchPlan(10, { batchSize: 4, seed: 3, dropLast: true }).batchesPerEpoch, 2);
});
