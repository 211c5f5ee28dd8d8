// The streaming corpus reader: lines keep their endings, and UTF-8 characters or lines cut by a read
// chunk boundary come out whole, so a corpus is read identically however it is chunked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonlText, readLines } from '../../src/tokenizer/corpus.js';

test('readLines: same lines for any chunk size, endings kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corpus-'));
  try {
    const text = '第一回 甄士隐梦幻识通灵\r\n贾雨村风尘怀闺秀 😀\n\nlast line without newline ✓';
    const p = join(dir, 'c.txt');
    writeFileSync(p, text);
    const expected = ['第一回 甄士隐梦幻识通灵\r\n', '贾雨村风尘怀闺秀 😀\n', '\n', 'last line without newline ✓'];
    for (const chunk of [1, 2, 3, 5, 7, 64, 1 << 22]) {
      let bytes = 0;
      assert.deepEqual([...readLines(p, (n) => (bytes += n), chunk)], expected, `chunk ${chunk}`);
      assert.equal(bytes, Buffer.byteLength(text));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jsonlText: text field, or conversations contents joined by newlines (MiniMind train_tokenizer.py)', () => {
  assert.equal(jsonlText({ text: 'abc' }), 'abc');
  assert.equal(jsonlText({ conversations: [{ role: 'user', content: 'q' }, { role: 'assistant', content: '' }, { role: 'assistant', content: 'a' }] }), 'q\na');
  assert.equal(jsonlText({ other: 1 }), undefined);
  assert.equal(jsonlText(null), undefined);
});
