// Loss masks with MiniMind's real tokenizers (../shared/data/minimind-tokenizer), against spans
// written out by hand from the ids in the spec: minimind-3 `<|im_start|>assistant\n` =
// [1, 1388, 570, 811, 234], `<|im_end|>\n` = [2, 234]; v1 `<s>assistant` = [1, 1078, 538, 501].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { toDataTokenizer } from '../../src/data/tokenizer-like.js';
import { chatMarkers, encodeChat, toMessages } from '../../src/data/encode.js';

const root = '../shared/data/minimind-tokenizer';
const skip = existsSync(root) ? false : `${root} not found (shared data absent)`;

const conv = toMessages(
  [
    { role: 'user', content: '你好' },
    { role: 'assistant', content: '你好！' },
    { role: 'user', content: '1+1' },
    { role: 'assistant', content: '2' },
  ],
  'fixture',
);

function targets(ids: Int32Array, mask: Uint8Array): { at: number[]; ids: number[] } {
  const at: number[] = [];
  mask.forEach((m, i) => m && at.push(i));
  return { at, ids: at.map((i) => ids[i]) };
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test('minimind-3 (head): both assistant turns, think block + content + <|im_end|>\\n', { skip }, () => {
  const tok = toDataTokenizer(Tokenizer.load(`${root}/head`));
  const m = chatMarkers(tok);
  assert.deepEqual(m.start, [1, 1388, 570, 811, 234]);
  assert.deepEqual(m.end, [2, 234]);
  const s = encodeChat(tok, conv, 1024, m);
  // 0..6 user turn, 7..11 <|im_start|>assistant\n, 12..21 answer 1, 22..30 user, 31..35 header, 36..44 answer 2
  assert.equal(s.ids.length, 45);
  const t = targets(s.ids, s.mask!);
  assert.deepEqual(t.at, [...range(12, 22), ...range(36, 45)]);
  assert.deepEqual(t.ids, [25, 234, 234, 26, 234, 234, 1968, 1364, 2, 234, 25, 234, 234, 26, 234, 234, 53, 2, 234]);
  assert.deepEqual(Array.from(s.ids.slice(7, 12)), [1, 1388, 570, 811, 234]);
});

test('minimind2: default system prompt unsupervised; each answer + <|im_end|>\\n supervised', { skip }, () => {
  const tok = toDataTokenizer(Tokenizer.load(`${root}/minimind2`));
  const s = encodeChat(tok, conv, 1024, chatMarkers(tok));
  assert.equal(s.ids.length, 46);
  const t = targets(s.ids, s.mask!);
  assert.deepEqual(t.at, [25, 26, 27, 28, 43, 44, 45]);
  assert.deepEqual(t.ids, [5134, 2207, 2, 201, 20, 2, 201]);
});

test("v1 'last' mode: only the last answer, from the '\\n' after the last <s>assistant", { skip }, () => {
  const tok = toDataTokenizer(Tokenizer.load(`${root}/v1`));
  assert.equal(tok.padTokenId, 0);
  const m = chatMarkers(tok);
  assert.deepEqual(m.lastAnswer, [1, 1078, 538, 501]);
  const s = encodeChat(tok, conv, 512, m, { mode: 'last' });
  assert.equal(s.ids.length, 33);
  const t = targets(s.ids, s.mask!);
  assert.deepEqual(t.at, [29, 30, 31, 32]);
  assert.deepEqual(t.ids, [201, 20, 2, 201]);
  assert.deepEqual(Array.from(s.ids.slice(25, 29)), [1, 1078, 538, 501]);
});

test('DPO pair on minimind-3: chosen and rejected use the same spans', { skip }, () => {
  const tok = toDataTokenizer(Tokenizer.load(`${root}/head`));
  const m = chatMarkers(tok);
  const chosen = encodeChat(tok, toMessages([{ role: 'user', content: 'A' }, { role: 'assistant', content: 'B' }], 'c'), 64, m);
  const rejected = encodeChat(tok, toMessages([{ role: 'user', content: 'A' }, { role: 'assistant', content: 'C' }], 'r'), 64, m);
  assert.deepEqual(targets(chosen.ids, chosen.mask!).ids, [25, 234, 234, 26, 234, 234, 69, 2, 234]);
  assert.deepEqual(targets(rejected.ids, rejected.mask!).ids, [25, 234, 234, 26, 234, 234, 70, 2, 234]);
});
