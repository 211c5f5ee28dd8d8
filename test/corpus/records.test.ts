// The corpus readers: parquet written by pyarrow reads as pyarrow reads it back (fixtures from
// tools/corpus/parquet_fixture.py), a JSON array is streamed element by element with bad elements
// counted by file:line, and txt / csv / jsonl give records with their places.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInputs, readRecords } from '../../src/corpus/records.js';
import { Rejects } from '../../src/corpus/rejects.js';

const FIX = 'test/fixtures/corpus';
const dir = mkdtempSync(join(tmpdir(), 'mm-corpus-'));

async function all(path: string, rejects = new Rejects()) {
  const out = [];
  for await (const r of readInputs([path], rejects)) out.push(r);
  return out;
}

for (const name of ['text', 'chat']) {
  test(`parquet written by pyarrow (${name}.parquet) reads as pyarrow reads it`, async () => {
    const expected = readFileSync(join(FIX, `${name}.parquet.expected.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const got = await all(join(FIX, `${name}.parquet`));
    assert.equal(got.length, expected.length);
    assert.deepEqual(got.map((r) => r.value), expected);
    const k = got.length - 1; // text.parquet: the last row is in the third row group
    assert.equal(got[k].where, `${FIX}/${name}.parquet:row ${k + 1}`);
  });
}

test('a JSON array is read element by element; a bad element is counted with its line, the rest read', async () => {
  const f = join(dir, 'a.json');
  // elements split across lines, strings holding brackets and escaped quotes, one broken element, one non-object
  writeFileSync(f, '[\n  {"instruction": "a [b] {c}", "output": "say \\"hi\\""},\n  {"instruction": "x",\n   "output": "y"},\n  {"instruction": oops},\n  [1, 2],\n  {"text": "last"}\n]\n');
  const rejects = new Rejects();
  const got = await all(f, rejects);
  assert.deepEqual(got.map((r) => r.value), [{ instruction: 'a [b] {c}', output: 'say "hi"' }, { instruction: 'x', output: 'y' }, { text: 'last' }]);
  assert.deepEqual(got.map((r) => r.where), [`${f}:2 [element 1]`, `${f}:3 [element 2]`, `${f}:7 [element 5]`]);
  assert.equal(rejects.total, 2);
  assert.deepEqual([...rejects.reasons.values()].map((r) => r.where[0]).sort(), [`${f}:5 [element 3]`, `${f}:6 [element 4]`]);
});

test('a JSON array across 1 MB read chunks: strings of backslashes and quotes, cut anywhere, read as JSON.parse reads the file', async () => {
  // the scanner jumps from quote to quote; a chunk end inside a run of backslashes must carry over
  // (brackets in the strings: a quote taken for a string's end would show)
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pieces = ['\\', '\\', '"', 'x', '汉', '\\"', '{', ']'];
  const texts = Array.from({ length: 1500 }, () => Array.from({ length: 400 + Math.floor(rand() * 400) }, () => pieces[Math.floor(rand() * pieces.length)]).join(''));
  const body = '[\n' + texts.map((t) => JSON.stringify({ text: t })).join(',\n') + '\n]\n';
  // pad the file so that the first chunk (1 MB) ends on the backslash of an escaped quote, then of
  // an escaped backslash: the last such pairs before 1 MB, found byte by byte
  const bytes = Buffer.from(body);
  assert.ok(bytes.length > 1 << 20);
  const lastEscape = new Map<number, number>(); // escaped byte -> where its backslash is
  for (let i = 0, inString = false; i < 1 << 20; i++) {
    if (!inString) inString = bytes[i] === 34;
    else if (bytes[i] === 92) lastEscape.set(bytes[++i], i - 1);
    else inString = bytes[i] !== 34;
  }
  const pads = [0, ...[34, 92].map((c) => (1 << 20) - 1 - lastEscape.get(c)!)];
  for (const pad of pads) {
    const f = join(dir, `chunks-${pad}.json`);
    writeFileSync(f, ' '.repeat(pad) + body);
    const rejects = new Rejects();
    const got = await all(f, rejects);
    assert.equal(rejects.total, 0, `pad ${pad}`);
    assert.deepEqual(got.map((r) => r.value.text), texts, `pad ${pad}`);
    assert.equal(got[1499].where, `${f}:1501 [element 1500]`);
  }
});

test('top-level numbers, strings and literals in a JSON array are one bad row each', async () => {
  const f = join(dir, 'scalars.json');
  writeFileSync(f, '[123, "a [string] {x}", true, null, {"text": "ok"}, -4.5e3]');
  const rejects = new Rejects();
  const got = await all(f, rejects);
  assert.deepEqual(got.map((r) => r.value), [{ text: 'ok' }]);
  assert.equal(rejects.total, 5);
  // one line (as json.dump writes it): the element number tells the rows apart
  assert.deepEqual(got.map((r) => r.where), [`${f}:1 [element 5]`]);
  assert.deepEqual([...rejects.reasons.values()].flatMap((r) => r.where), [`${f}:1 [element 1]`, `${f}:1 [element 2]`, `${f}:1 [element 3]`]);
  const r2 = new Rejects(10);
  await all(f, r2);
  assert.deepEqual([...r2.reasons.values()].flatMap((r) => r.where), [1, 2, 3, 4, 6].map((n) => `${f}:1 [element ${n}]`));
});

test('a JSON array cut short is one error naming the file', async () => {
  const f = join(dir, 'cut.json');
  writeFileSync(f, '[{"text": "a"}, {"text": "b"');
  await assert.rejects(all(f), /cut\.json:1: the JSON array is not closed/);
});

test('a .json file of lines is read as jsonl; txt gives one record per non-blank line; csv by header', async () => {
  const j = join(dir, 'lines.json');
  writeFileSync(j, '{"text": "a"}\n{"text": "b"}\n');
  assert.deepEqual((await all(j)).map((r) => r.value.text), ['a', 'b']);
  const t = join(dir, 'doc.txt');
  writeFileSync(t, '\uFEFFfirst line\n\n  \nsecond line\r\n');
  const got = await all(t);
  assert.deepEqual(got.map((r) => [r.value.text, r.where]), [['first line', `${t}:1`], ['second line', `${t}:4`]]);
  const c = join(dir, 'v1.csv');
  writeFileSync(c, 'history,q,a\n[],"hi, there",hello\n"[[\'a\', \'b\']]",q2,"multi\nline"\n');
  const rows = [];
  for await (const r of readRecords(c)) rows.push(r);
  assert.deepEqual(rows.map((r) => r.value.q), ['hi, there', 'q2']);
  assert.equal(rows[1].value.a, 'multi\nline');
});

test('a missing input or an unknown extension is refused before reading', async () => {
  await assert.rejects(all(join(dir, 'nope.jsonl')), /not found/);
  const x = join(dir, 'data.xml');
  writeFileSync(x, '<a/>');
  await assert.rejects(all(x), /unsupported file type '\.xml'/);
});

test('broken lines each with their own parser message are one reason, with the first message as an example', async () => {
  const f = join(dir, 'many-bad.jsonl');
  const lines = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `{"text": "ok ${i}"}` : i % 3 === 1 ? `garbage ${i} {` : `{"text": "cut ${i}"`));
  writeFileSync(f, lines.join('\n') + '\n');
  const rejects = new Rejects();
  const got = await all(f, rejects);
  assert.equal(got.length, 100);
  assert.deepEqual([...rejects.reasons.keys()], ['invalid JSON']);
  const r = rejects.reasons.get('invalid JSON')!;
  assert.equal(r.count, 200);
  assert.deepEqual(r.where, [`${f}:2`, `${f}:3`, `${f}:5`]);
  const out = rejects.lines();
  assert.equal(out.length, 1);
  assert.match(out[0], /^ +200 {2}invalid JSON \(e\.g\. Unexpected token 'g', "garbage 1 \{" is not valid JSON\) \(first at /);
  // a reason whose detail never changes is printed as it came
  const same = new Rejects();
  same.add('no text field (expected text or conversations)', 'a:1');
  same.add('no text field (expected text or conversations)', 'a:2');
  assert.deepEqual(same.lines(), ['        2  no text field (expected text or conversations) (first at a:1, a:2)']);
});
