// The streaming corpus reader: lines keep their endings, and UTF-8 characters or lines cut by a read
// chunk boundary come out whole, so a corpus is read identically however it is chunked; bytes that
// are not UTF-8 are an error at their line, as Hugging Face tokenizers refuse them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

test('readLines: bytes that are not UTF-8 stop it at their file:line for any chunk size, as HF tokenizers refuse the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corpus-'));
  try {
    const p = join(dir, 'bad.txt');
    // line 2 holds a real U+FFFD (text); line 3 a 汉 cut short (E6 B1 without 89)
    writeFileSync(p, Buffer.concat([Buffer.from('第一行\r\na real \ufffd\nthird '), Buffer.from([0xe6, 0xb1]), Buffer.from(' line\nfourth\n')]));
    for (const chunk of [1, 2, 3, 5, 7, 64, 1 << 22]) {
      const got: string[] = [];
      assert.throws(() => {
        for (const line of readLines(p, undefined, chunk)) got.push(line);
      }, /bad\.txt:3: not valid UTF-8/, `chunk ${chunk}`);
      assert.deepEqual(got, ['第一行\r\n', 'a real \ufffd\n'], `chunk ${chunk}`);
    }
    const hf = spawnSync('.venv/bin/python', ['-c', 'import sys\nfrom tokenizers import Tokenizer, models, trainers\ntry:\n  Tokenizer(models.BPE()).train([sys.argv[1]], trainers.BpeTrainer(vocab_size=300))\nexcept Exception as e:\n  print(e)', p], { encoding: 'utf8' });
    assert.equal(hf.status, 0, hf.stderr);
    assert.match(hf.stdout, /stream did not contain valid UTF-8/);
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
