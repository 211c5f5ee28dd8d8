// `data mix` and `data split`: shares by weight, repetition when a source is asked for more than
// it has, the same output for the same seed, an external shuffle over several buckets that loses
// and invents no row; split gives disjoint train/validation files whose union is the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mix, parseSource } from '../../src/corpus/mix.js';
import { split } from '../../src/corpus/split.js';
import { ExternalShuffle } from '../../src/corpus/shuffle.js';
import { JsonlWriter } from '../../src/corpus/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'mm-mix-'));
const rowsOf = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l).text as string);
function source(name: string, n: number): string {
  const p = join(dir, `${name}.jsonl`);
  writeFileSync(p, Array.from({ length: n }, (_, i) => JSON.stringify({ text: `${name}-${i}` })).join('\n') + '\n');
  return p;
}

test('mix: weights set the shares, a short source repeats, the seed fixes the order', async () => {
  const a = source('a', 300);
  const b = source('b', 50);
  // default rows: as many as possible without repeating: b (weight 1 of 4) limits to 200 rows
  const out = join(dir, 'm1.jsonl');
  const s = await mix({ sources: [parseSource(`${a}:3`), parseSource(b)], output: out });
  const rows = rowsOf(out);
  assert.equal(rows.length, 200);
  assert.equal(rows.filter((r) => r.startsWith('a-')).length, 150);
  assert.equal(new Set(rows).size, 200);
  assert.deepEqual(s.sources.map((x) => x.repeated), [1, 1]);
  assert.notDeepEqual(rows.slice(0, 20), [...rows].sort().slice(0, 20));
  // --rows beyond what b has: b repeats
  const out2 = join(dir, 'm2.jsonl');
  const s2 = await mix({ sources: [{ path: a, weight: 1 }, { path: b, weight: 1 }], output: out2, rows: 400, seed: 1 });
  const rows2 = rowsOf(out2);
  assert.equal(rows2.filter((r) => r.startsWith('b-')).length, 200);
  assert.equal(s2.sources[1].repeated, 4);
  for (let i = 0; i < 50; i++) assert.equal(rows2.filter((r) => r === `b-${i}`).length, 4);
  const out3 = join(dir, 'm3.jsonl');
  await mix({ sources: [{ path: a, weight: 1 }, { path: b, weight: 1 }], output: out3, rows: 400, seed: 1 });
  assert.deepEqual(rowsOf(out3), rows2);
  assert.throws(() => parseSource('x.jsonl:0'), /weight must be a number > 0/);
});

test('mix: a row repeated more than 65,535 times is counted in full (no 16-bit wrap)', async () => {
  const one = source('one', 1);
  const out = join(dir, 'm-many.jsonl');
  const s = await mix({ sources: [{ path: one, weight: 1 }], output: out, rows: 70_000 });
  assert.equal(s.rows, 70_000);
  assert.equal(s.sources[0].taken, 70_000);
  assert.equal(s.sources[0].repeated, 70_000);
  assert.equal(rowsOf(out).length, 70_000);
});

test('mix: a source of 200,000 rows (its repeat count taken without spreading the array), with a progress bar to the total', async () => {
  const big = source('big', 200_000);
  const out = join(dir, 'm-big.jsonl');
  const seen: [number, number][] = [];
  const s = await mix({ sources: [{ path: big, weight: 1 }], output: out, onProgress: (d, t) => seen.push([d, t]) });
  assert.equal(s.rows, 200_000);
  assert.equal(s.sources[0].repeated, 1);
  const size = statSync(big).size;
  assert.deepEqual(seen[seen.length - 1], [2 * size, 2 * size]); // both passes over the source
  assert.ok(seen.every(([d], i) => i === 0 || d >= seen[i - 1][0]));
});

test('mix refuses sources whose rows no one stage reads together (pretrain text with conversations)', async () => {
  const text = source('t', 3);
  const chat = join(dir, 'chat.jsonl');
  writeFileSync(chat, JSON.stringify({ conversations: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }) + '\n');
  const out = join(dir, 'm-schemas.jsonl');
  await assert.rejects(mix({ sources: [{ path: chat, weight: 1 }, { path: text, weight: 1 }], output: out }), /--source .*t\.jsonl holds pretrain text rows but --source .*chat\.jsonl conversation rows/);
  assert.ok(!existsSync(out));
});

test('external shuffle over many buckets keeps every row once', () => {
  const sh = new ExternalShuffle(10_000, 5, join(dir, 'x'), 1000);
  const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ text: `r${i}` }));
  for (const l of lines) sh.add(l);
  const w = new JsonlWriter(join(dir, 'shuffled.jsonl'));
  sh.drainTo(w);
  w.close();
  const got = readFileSync(join(dir, 'shuffled.jsonl'), 'utf8').trim().split('\n');
  assert.deepEqual([...got].sort(), [...lines].sort());
  assert.notDeepEqual(got, lines);
});

test('split: exact validation rows or a fraction; disjoint, union is the input, order kept', async () => {
  const a = source('s', 1000);
  const train = join(dir, 'train.jsonl');
  const val = join(dir, 'val.jsonl');
  const s = await split({ inputs: [a], train, val, valRows: 37, seed: 3 });
  assert.deepEqual([s.train, s.val], [963, 37]);
  const t = rowsOf(train);
  const v = rowsOf(val);
  assert.deepEqual([...t, ...v].sort(), rowsOf(a).sort());
  const idx = (r: string) => Number(r.split('-')[1]);
  assert.deepEqual(t.map(idx), [...t.map(idx)].sort((x, y) => x - y));
  const s2 = await split({ inputs: [a], train, val, valFraction: 0.1, seed: 3 });
  assert.ok(s2.val > 60 && s2.val < 140, `${s2.val}`);
});
