// Bad tokenizer files fail with an error that names the file and what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '../../src/tokenizer/index.js';
import { noShared, TOKENIZERS } from './helpers.js';

function withFile(content: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  try {
    const p = join(dir, 'tokenizer.json');
    writeFileSync(p, content);
    fn(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('missing tokenizer', () => {
  assert.throws(() => Tokenizer.load('/no/such/dir'), /tokenizer not found: \/no\/such\/dir/);
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  try {
    assert.throws(() => Tokenizer.load(dir), /no tokenizer\.json in/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed JSON names the file', () => {
  withFile('{"model": ', (p) => assert.throws(() => Tokenizer.load(p), (e: Error) => e.message.includes(p) && /not valid JSON/.test(e.message)));
});

test('unsupported model types and components', () => {
  const base = () => ({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] }, pre_tokenizer: { type: 'ByteLevel' } });
  const cases: [object, RegExp][] = [
    [{ ...base(), model: { type: 'WordPiece', vocab: {} } }, /unsupported model type 'WordPiece'/],
    [{ ...base(), model: { type: 'Unigram', vocab: [] } }, /unsupported model type 'Unigram'/],
    [{ ...base(), normalizer: { type: 'NFC' } }, /normalizer 'NFC' is not supported/],
    [{ ...base(), pre_tokenizer: { type: 'Metaspace' } }, /pre_tokenizer 'Metaspace' is not supported/],
    [{ ...base(), model: { type: 'BPE', vocab: { a: 0 }, merges: ['a b'] } }, /merge 0 \("a b"\) uses token 'b' that is not in the vocab/],
    [{ ...base(), model: { type: 'BPE', vocab: { a: 0 }, merges: [42] } }, /merge 0 \(42\) is neither/],
    [{ ...base(), model: { type: 'BPE', vocab: { a: 0 } } }, /model\.merges is missing/],
    [[1, 2], /expected a JSON object/],
  ];
  for (const [json, re] of cases) withFile(JSON.stringify(json), (p) => assert.throws(() => Tokenizer.load(p), (e: Error) => re.test(e.message) && e.message.includes(p), `${JSON.stringify(json)} -> ${re}`));
});

test('no chat template is a clear error', { skip: noShared }, () => {
  const raw = readFileSync(`${TOKENIZERS}/minimind2/tokenizer.json`, 'utf8');
  withFile(raw, (p) => assert.throws(() => Tokenizer.load(p).applyChatTemplate([{ role: 'user', content: 'x' }]), /no chat_template/));
});
