// Exact dedup's jsonl path (chunks of whole lines, parsed on worker threads, kept lines written back
// as the bytes read) against the row-by-row reader every other command uses (readJsonl), and the
// line cutting of both (data/lines.ts) against node:readline: the same lines with the same numbers, and the same kept rows, removed rows and
// unreadable counts, on a file with a BOM, CRLF and lone CR line ends, blank and bad lines,
// multi-byte characters and lines longer than a chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBom, lineChunks, lineSpans, readLines } from '../../src/data/lines.js';
import { dedup } from '../../src/corpus/dedup.js';
import { Rejects } from '../../src/corpus/rejects.js';
import { UserError } from '../../src/core/errors.js';
import { mapBatches } from '../../src/corpus/pool.js';
import type { ExactChunk, ExactChunkKeys } from '../../src/corpus/exact-worker.js';

const dir = mkdtempSync(join(tmpdir(), 'mm-dedup-exact-'));

function awkwardFile(): string {
  const rows = [
    '{"text": "Hello  World"}',
    '{"text": "hello world"}', // an exact duplicate of row 1 (case, spacing)
    '',
    '   ',
    '{"text": "Ünïcödé 汉字 😀 straddles chunks"}',
    'not json',
    '[1, 2]',
    '{"other": 1}', // no text field
    '{"text": "ｈｅｌｌｏ ｗｏｒｌｄ"}', // NFKC folds full-width letters: a duplicate of row 1
    `{"text": "${'long line '.repeat(40)}"}`,
    '{"text": "ünïcödé 汉字 😀 straddles chunks"}',
  ];
  const ends = ['\r\n', '\n', '\r', '\n', '\r\n', '\n', '\n', '\r', '\n', '\r\n'];
  return '\ufeff' + rows.map((r, i) => r + (ends[i] ?? '')).join(''); // no line end after the last row
}

/** Each reason with its count and places, the file name left out. */
const reasons = (r: Rejects, file: string) => [...r.reasons].map(([why, x]) => [why, x.count, x.where.map((w) => w.replace(join(dir, file), 'FILE:'))]);

/** The lines node:readline reads from the decoded file (the reference for line ends), the BOM left out. */
async function readlineLines(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity })) out.push(out.length === 0 ? l.replace(/^\uFEFF/, '') : l);
  return out;
}

test('lineChunks + lineSpans, and readLines, cut the same lines as readline, at any chunk size', async () => {
  const path = join(dir, 'awkward.jsonl');
  writeFileSync(path, awkwardFile());
  const want = await readlineLines(path);
  assert.equal(want.length, 11);
  const lines: (string | null)[] = [];
  for await (const chunk of readLines(path)) lines.push(...chunk);
  assert.deepEqual(lines, want);
  for (const size of [1, 7, 16, 64, 1 << 20]) {
    const got: string[] = [];
    let first = true;
    for await (const bytes of lineChunks(path, size)) {
      const spans = lineSpans(bytes);
      if (first && hasBom(bytes)) spans[0] += 3;
      first = false;
      for (let i = 0; i < spans.length; i += 2) got.push(Buffer.from(bytes.subarray(spans[i], spans[i + 1])).toString('utf8'));
    }
    assert.deepEqual(got, want, `chunk size ${size}`);
  }
});

test('exact dedup of jsonl (chunks) equals the row-by-row path, removed rows and unreadable counts included', async () => {
  const body = awkwardFile();
  const viaChunks = join(dir, 'in.jsonl');
  const viaRows = join(dir, 'in.json'); // a .json file that is not an array is read as jsonl, row by row
  writeFileSync(viaChunks, body);
  writeFileSync(viaRows, body);
  const ref = await dedup({ inputs: [viaRows], output: join(dir, 'rows.jsonl'), removed: join(dir, 'rows-removed.jsonl'), near: false });
  assert.equal(ref.rows, 6);
  assert.equal(ref.exactDuplicates, 3); // rows 2, 9 and 11
  const removedRef = readFileSync(join(dir, 'rows-removed.jsonl'), 'utf8').replaceAll('in.json:', 'FILE:');
  for (const threads of [1, 2]) { // a small file is hashed on one thread whatever --threads says
    const s = await dedup({ inputs: [viaChunks], output: join(dir, `chunks-${threads}.jsonl`), removed: join(dir, `chunks-removed-${threads}.jsonl`), near: false, threads });
    assert.equal(readFileSync(join(dir, `chunks-${threads}.jsonl`), 'utf8'), readFileSync(join(dir, 'rows.jsonl'), 'utf8'), `threads ${threads}`);
    assert.equal(readFileSync(join(dir, `chunks-removed-${threads}.jsonl`), 'utf8').replaceAll('in.jsonl:', 'FILE:'), removedRef);
    assert.deepEqual([s.rows, s.kept, s.exactDuplicates, s.clusters], [ref.rows, ref.kept, ref.exactDuplicates, ref.clusters]);
    assert.deepEqual(reasons(s.unreadable, 'in.jsonl:'), reasons(ref.unreadable, 'in.json:'));
  }
});

test('the exact worker gives the same keys on worker threads as on this one', async () => {
  const path = join(dir, 'pool.jsonl');
  writeFileSync(path, awkwardFile().repeat(50));
  const results: ExactChunkKeys[][] = [];
  for (const threads of [1, 2]) {
    const source = async function* () {
      let first = true;
      for await (const bytes of lineChunks(path, 256)) {
        yield [{ bytes, first }];
        first = false;
      }
    };
    const out: ExactChunkKeys[] = [];
    for await (const [keys] of mapBatches<ExactChunk, ExactChunkKeys>(source(), new URL('../../src/corpus/exact-worker.js', import.meta.url), {}, threads)) out.push(keys);
    results.push(out);
  }
  assert.ok(results[0].length > 10);
  assert.deepEqual(results[1], results[0]);
});

test('exact dedup of inputs with no readable row is the error readInputs gives, with no output left', async () => {
  const cases: [string, RegExp][] = [
    ['', /no rows \(empty\)/],
    ['bad\n[1]\n', /no readable rows in .*: 2 unreadable, the first at .*:1: invalid JSON/],
  ];
  for (const [body, message] of cases) {
    for (const ext of ['jsonl', 'json']) { // chunks, and row by row
      const input = join(dir, `none.${ext}`);
      writeFileSync(input, body);
      const output = join(dir, `none-out-${ext}.jsonl`);
      await assert.rejects(dedup({ inputs: [input], output, near: false }), (e: Error) => e instanceof UserError && message.test(e.message));
      assert.equal(existsSync(output), false);
    }
  }
});
