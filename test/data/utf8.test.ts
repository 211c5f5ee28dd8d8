// Data files with bytes that are not UTF-8: MiniMind's Python scripts refuse them (open(...,
// encoding='utf-8') raises UnicodeDecodeError), so every reader here finds them on the bytes, before
// decoding, instead of reading U+FFFD in their place: the data commands count the row as
// 'not valid UTF-8' with its file:line and keep the others; the stages stop at file:line, or skip
// and count the line with --skip-bad-lines. A real U+FFFD in the file (EF BF BD) is text.
// Which byte sequences are invalid is Python's verdict (bytes.decode('utf-8')), not ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readJsonl } from '../../src/data/jsonl.js';
import { readCsv } from '../../src/data/csv.js';
import { readLines } from '../../src/data/lines.js';
import { readInputs } from '../../src/corpus/records.js';
import { Rejects } from '../../src/corpus/rejects.js';
import { readDocuments } from '../../src/eval/documents.js';

const dir = mkdtempSync(join(tmpdir(), 'mm-utf8-'));
const at = (p: string) => join(dir, p);
const cli = resolve('dist/src/cli/main.js');
const TOK = resolve('../shared/data/minimind-tokenizer/head');
const PY = '.venv/bin/python';

const b = (s: string) => Buffer.from(s, 'utf8');
const line1 = b('{"text": "第一行: the first line is fine"}');
const line2 = Buffer.concat([b('{"text": "cut short '), Buffer.from([0xe6, 0xb1]), b(' here"}')]); // 汉 (E6 B1 89) without its last byte
const line3 = b('{"text": "a real \ufffd replacement character stays"}'); // EF BF BD in the file
const badJsonl = Buffer.concat([line1, b('\n'), line2, b('\n'), line3, b('\n')]);
writeFileSync(at('bad.jsonl'), badJsonl);

/** Each reason with its count and first places, the folder left out. */
const reasons = (r: Rejects) => [...r.reasons].map(([why, x]) => [why, x.count, x.where.map((w) => w.replace(dir + '/', ''))]);

test('a line is refused exactly when Python refuses its bytes as UTF-8', async () => {
  const lines = [
    [0x61],
    [0xc3], // a lead byte at the end of the line
    [0xe6, 0xb1, 0x89], // 汉
    [0xf0, 0x9f, 0x98, 0x80], // 😀
    [0xef, 0xbf, 0xbd], // U+FFFD itself
    [0xc0, 0xaf], // overlong '/'
    [0xed, 0xa0, 0x80], // a UTF-16 surrogate
    [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    [0x80], // a lone continuation byte
    [0xff],
    [0x61, 0xe6, 0x62], // a lead byte followed by ASCII
    [0xef, 0xbb, 0xbf, 0x61], // a BOM in the middle of the file is a character
  ].map((l) => Buffer.from([0x5b, ...l, 0x5d])); // [..], so no line is blank
  writeFileSync(at('bytes.txt'), Buffer.concat(lines.flatMap((l) => [l, b('\n')])));
  const py = spawnSync(PY, ['-c', `import sys\nfor l in open(sys.argv[1], 'rb').read().split(b'\\n')[:-1]:\n  try:\n    l.decode('utf-8'); print(1)\n  except UnicodeDecodeError:\n    print(0)`, at('bytes.txt')], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const python = py.stdout.trim().split('\n').map((v) => v === '1');
  assert.deepEqual(python, [true, false, true, true, true, false, false, false, false, false, false, true]); // the cases cover both verdicts
  const ours: (string | null)[] = [];
  for await (const chunk of readLines(at('bytes.txt'))) ours.push(...chunk);
  assert.deepEqual(ours.map((t) => t !== null), python);
  assert.equal(ours[4], '[\ufffd]');
});

test('readJsonl (the stages): file:line, or skipped and counted with skipBadLines; U+FFFD in the file stays', async () => {
  await assert.rejects(async () => {
    for await (const _ of readJsonl(at('bad.jsonl')));
  }, /bad\.jsonl:2: not valid UTF-8/);
  const bad: string[] = [];
  const rows = [];
  for await (const r of readJsonl(at('bad.jsonl'), { skipBadLines: true, onBadLine: (_f, line, why) => bad.push(`${line}: ${why}`) })) rows.push(r);
  assert.deepEqual(bad, ['2: not valid UTF-8']);
  assert.deepEqual(rows.map((r) => r.line), [1, 3]);
  assert.equal(rows[1].value.text, 'a real \ufffd replacement character stays');
  // past the first chunk (1 MB), the line number is still the file's
  const good = b(JSON.stringify({ text: 'x'.repeat(300) }) + '\n');
  const big = Buffer.concat([...Array.from({ length: 5000 }, () => good), line2, b('\n'), good]);
  writeFileSync(at('big.jsonl'), big);
  await assert.rejects(async () => {
    for await (const _ of readJsonl(at('big.jsonl')));
  }, /big\.jsonl:5001: not valid UTF-8/);
});

test('txt, csv, JSON arrays, parquet and perplexity documents: the row with invalid bytes is unreadable at its place, the others read', async () => {
  writeFileSync(at('bad.txt'), Buffer.concat([b('first line\n'), Buffer.from([0x78, 0xff, 0x0a]), b('third \ufffd line\n')]));
  writeFileSync(at('bad.csv'), Buffer.concat([b('\ufefftext,n\n"first, quoted",1\n'), Buffer.from([0x22, 0x61, 0x0a, 0xc3, 0x22, 0x2c, 0x32, 0x0a]), b('third \ufffd,3\n')]));
  writeFileSync(at('bad.json'), Buffer.concat([b('[\n  {"text": "one"},\n  {"text": "tw'), Buffer.from([0xc3]), b('o"},\n  {"text": "three \ufffd"}\n]\n')]));
  const want: Record<string, [string[], string]> = {
    'bad.txt': [['first line', 'third \ufffd line'], 'bad.txt:2'],
    'bad.csv': [['first, quoted', 'third \ufffd'], 'bad.csv:3'], // the quoted cell with the bad byte spans lines 3-4
    'bad.json': [['one', 'three \ufffd'], 'bad.json:3 [element 2]'],
  };
  for (const [name, [texts, where]] of Object.entries(want)) {
    const rejects = new Rejects();
    const got = [];
    for await (const r of readInputs([at(name)], rejects)) got.push(r.value.text);
    assert.deepEqual(got, texts, name);
    assert.deepEqual(reasons(rejects), [['not valid UTF-8', 1, [where]]], name);
  }
  // parquet: a string cell that is not UTF-8 (tools/corpus/parquet_fixture.py; pyarrow raises UnicodeDecodeError on it)
  const parquet = resolve('test/fixtures/corpus/bad-utf8.parquet');
  const rejects = new Rejects();
  const got = [];
  for await (const r of readInputs([parquet], rejects)) got.push(r.value);
  assert.deepEqual(got, [{ text: 'first row', id: 1 }, { text: 'a real \ufffd replacement character stays', id: 3 }]);
  assert.deepEqual([...rejects.reasons].map(([why, x]) => [why, x.count, x.where]), [['not valid UTF-8', 1, [`${parquet}:row 2`]]]);
  // a perplexity document (.txt, read whole)
  await assert.rejects(readDocuments(at('bad.txt')), /bad\.txt:2: not valid UTF-8/);
  // the csv reader of the stages (MiniMind v1's csv files): file:line, as a wrong column count
  await assert.rejects(async () => {
    for await (const _ of readCsv(at('bad.csv')));
  }, /bad\.csv:3: not valid UTF-8/);
  writeFileSync(at('badhead.csv'), Buffer.from([0x74, 0xff, 0x0a, 0x61, 0x0a]));
  await assert.rejects(async () => {
    for await (const _ of readCsv(at('badhead.csv'), { skipBadLines: true }));
  }, /badhead\.csv:1: the header row is not valid UTF-8/);
});

test('data stats, clean and dedup (exact and near) count the line as not valid UTF-8 at file:2 and keep lines 1 and 3', () => {
  const kept = Buffer.concat([line1, b('\n'), line3, b('\n')]).toString('utf8');
  const runs: [string[], string | null][] = [
    [['stats', 'bad.jsonl'], null],
    [['clean', 'bad.jsonl', '--output', 'clean.jsonl'], 'clean.jsonl'],
    [['dedup', 'bad.jsonl', '--exact-only', '--output', 'exact.jsonl'], 'exact.jsonl'],
    [['dedup', 'bad.jsonl', '--exact-only', '--threads', '2', '--output', 'exact2.jsonl'], 'exact2.jsonl'],
    [['dedup', 'bad.jsonl', '--near-only', '--output', 'near.jsonl'], 'near.jsonl'],
    [['dedup', 'bad.jsonl', '--output', 'both.jsonl'], 'both.jsonl'],
  ];
  for (const [args, out] of runs) {
    const r = spawnSync(process.execPath, [cli, 'data', ...args, '--no-progress'], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /\n\s+1 {2}not valid UTF-8 \(first at bad\.jsonl:2\)/, args.join(' '));
    if (out === 'clean.jsonl') {
      // clean writes rows anew, and its repairs drop U+FFFD from a text
      const texts = readFileSync(at(out), 'utf8').trim().split('\n').map((l) => JSON.parse(l).text);
      assert.deepEqual(texts, ['第一行: the first line is fine', 'a real  replacement character stays']);
    } else if (out) assert.equal(readFileSync(at(out), 'utf8'), kept, args.join(' '));
    else assert.match(r.stdout, /bad\.jsonl: 2 rows/);
  }
});

test('pretrain --data stops at file:2; with --skip-bad-lines it skips that one line and trains', () => {
  const args = (out: string) => [cli, 'pretrain', '--data', at('bad.jsonl'), '--tokenizer', TOK, '--preset', 'tiny-3', '--hidden-size', '32', '--num-hidden-layers', '1', '--max-seq-len', '32', '--batch-size', '2', '--epochs', '1', '--out', at(out)];
  const r = spawnSync(process.execPath, args('run'), { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^minimind: .*bad\.jsonl:2: not valid UTF-8\n$/);
  const s = spawnSync(process.execPath, [...args('run-skip'), '--skip-bad-lines'], { encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout + s.stderr, /skipping .*bad\.jsonl:2: not valid UTF-8/);
  assert.match(s.stdout + s.stderr, /skipped 1 malformed line\(s\)/);
  assert.match(s.stdout + s.stderr, /tokenized 2 examples/);
});
