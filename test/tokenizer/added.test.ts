// Added tokens beyond MiniMind's plain ones: lstrip / rstrip / single_word / normalized flags and
// non-ASCII contents behave as in HF tokenizers (checked against the `tokenizers` oracle).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tokenizer, type TokenizerJson } from '../../src/tokenizer/index.js';
import { hfEncodeBatch, hfFromString, noShared, TOKENIZERS } from './helpers.js';

test('added-token flags match HF', { skip: noShared }, async () => {
  const json = JSON.parse(readFileSync(`${TOKENIZERS}/minimind2/tokenizer.json`, 'utf8')) as TokenizerJson;
  const add = (id: number, content: string, o: { lstrip?: boolean; rstrip?: boolean; single_word?: boolean; normalized?: boolean; special?: boolean }) =>
    json.added_tokens!.push({ id, content, lstrip: false, rstrip: false, single_word: false, normalized: false, special: false, ...o });
  add(6400, '[MASK]', { lstrip: true, special: true });
  add(6401, '<sep>', { rstrip: true, special: true });
  add(6402, 'word', { single_word: true, normalized: true });
  add(6403, '你好呀', { normalized: true });
  add(6404, '<sep><sep>', { special: true }); // longest match wins over '<sep>'
  const ours = new Tokenizer(json, {});
  const ref = hfFromString(JSON.stringify(json));
  const texts = [
    'a [MASK] b', 'a   [MASK]', '[MASK]x', 'x  <sep>  y', '<sep>\n\nz', 'a word b', 'swordfish words word', 'word',
    '你好呀你好', '<sep><sep><sep>', 'x\t[MASK]\t<sep>\tword\t你好呀',
  ];
  const expected = await hfEncodeBatch(ref, texts);
  texts.forEach((t, i) => assert.deepEqual(ours.encode(t), expected[i], JSON.stringify(t)));
  assert.equal(ours.vocabSize, ref.getVocabSize(true)); // 6404: 'word' kept its vocab id
  assert.equal(ours.decode(ours.encode('a [MASK] 你好呀'), { skipSpecialTokens: true }), 'a 你好呀');
});
