// Loss masks with a hand-checkable character tokenizer: which positions are targets for
// pretraining, SFT (every assistant turn / v1's last answer) and DPO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatMarkers, encodeChat, encodePretrain, toMessages } from '../../src/data/encode.js';
import { collate, IGNORE_INDEX } from '../../src/data/batches.js';
import { FakeTokenizer, ids } from './fake-tokenizer.js';

/** Indices where mask is 1. */
function on(mask: Uint8Array | null): number[] {
  const out: number[] = [];
  mask!.forEach((v, i) => v && out.push(i));
  return out;
}
function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

const conv = [
  { role: 'user', content: 'hi' },
  { role: 'assistant', content: 'yo' },
  { role: 'user', content: 'q' },
  { role: 'assistant', content: 'ok' },
];

test('pretrain: [bos] + tokens[:L-2] + [eos], every token a target', () => {
  const tok = new FakeTokenizer();
  assert.deepEqual(Array.from(encodePretrain(tok, 'abc', 10).ids), [1, ...ids('abc'), 2]);
  const cut = encodePretrain(tok, 'abcdefgh', 5);
  assert.deepEqual(Array.from(cut.ids), [1, ...ids('abc'), 2]);
  assert.equal(cut.mask, null);
});

test('sft (ChatML): every assistant turn from after "<|im_start|>assistant\\n" through "<|im_end|>\\n"', () => {
  const tok = new FakeTokenizer();
  const s = encodeChat(tok, toMessages(conv, 'x'), 1000, chatMarkers(tok));
  // Laid out by hand: turn 1 = ids 0..9 (<|im_start|> user\n(5) hi(2) <|im_end|> \n),
  // turn 2 = 10 <|im_start|>, 11..20 'assistant\n', 21..22 'yo', 23 <|im_end|>, 24 '\n',
  // turn 3 = 25..33, turn 4 = 34 <|im_start|>, 35..44 'assistant\n', 45..46 'ok', 47 <|im_end|>, 48 '\n'.
  assert.equal(s.ids.length, 49);
  assert.deepEqual(on(s.mask), [21, 22, 23, 24, 45, 46, 47, 48]);
  assert.equal(s.ids[23], 2);
  assert.equal(s.ids[47], 2);
});

test('sft: a turn cut off by max length is supervised up to the cut', () => {
  const tok = new FakeTokenizer();
  const s = encodeChat(tok, toMessages(conv, 'x'), 22, chatMarkers(tok));
  assert.deepEqual(on(s.mask), [21]);
});

test("sft v1 'last' mode: only the last answer, from the '\\n' after the last '<s>assistant'", () => {
  const tok = new FakeTokenizer('v1');
  const s = encodeChat(tok, toMessages(conv, 'x'), 1000, chatMarkers(tok), { mode: 'last' });
  // v1 text: <s>user\nhi</s>\n<s>assistant\n yo</s>\n <s>user\nq</s>\n<s>assistant\n ok</s>\n
  // = 0 <s>, 1..5 user\n, 6..7 hi, 8 </s>, 9 \n, 10 <s>, 11..19 'assistant', 20 \n, 21..22 yo, 23 </s>, 24 \n,
  //   25 <s>, 26..30 user\n, 31 q, 32 </s>, 33 \n, 34 <s>, 35..43 'assistant', 44 \n, 45..46 ok, 47 </s>, 48 \n
  assert.equal(s.ids.length, 49);
  assert.deepEqual(on(s.mask), range(44, 49));
  // and 'all' mode on the v1 template supervises both answers (without the '\n' after assistant)
  const all = encodeChat(tok, toMessages(conv, 'x'), 1000, chatMarkers(tok));
  assert.deepEqual(on(all.mask), [21, 22, 23, 24, 45, 46, 47, 48]);
});

test('collate: labels = ids on targets, -100 on prompt and padding; pad id fills inputs', () => {
  const tok = new FakeTokenizer();
  const a = encodeChat(tok, toMessages(conv.slice(0, 2), 'x'), 1000, chatMarkers(tok));
  const b = encodePretrain(tok, 'xyz', 100);
  const batch = collate([a, b], tok.padTokenId);
  assert.equal(batch.B, 2);
  assert.equal(batch.T, a.ids.length);
  const T = batch.T;
  for (let t = 0; t < T; t++) assert.equal(batch.labels[t], a.mask![t] ? a.ids[t] : IGNORE_INDEX);
  for (let t = 0; t < T; t++) {
    assert.equal(batch.inputIds[T + t], t < b.ids.length ? b.ids[t] : 0);
    assert.equal(batch.labels[T + t], t < b.ids.length ? b.ids[t] : IGNORE_INDEX);
  }
  assert.equal(batch.targets, 4 + (b.ids.length - 1));
  const fixed = collate([b], 0, 12);
  assert.equal(fixed.T, 12);
});

test('toMessages: clear errors for bad conversations; roles alternate when missing', () => {
  assert.throws(() => toMessages('nope', 'f.jsonl:3'), /f\.jsonl:3: 'conversations' must be a list/);
  assert.throws(() => toMessages([], 'f.jsonl:4'), /f\.jsonl:4: empty conversation/);
  assert.deepEqual(toMessages([{ content: 'a' }, { content: 'b' }], 'x').map((m) => m.role), ['user', 'assistant']);
});

test('augmentations: empty think blocks dropped and system prompts added with the given ratios', () => {
  const tok = new FakeTokenizer();
  const withThink = [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: '<think>\n\n</think>\n\nA' },
  ];
  const keep = encodeChat(tok, toMessages(withThink, 'x'), 1000, chatMarkers(tok), { dropEmptyThinkRatio: 0, rand: () => 0.5 });
  const drop = encodeChat(tok, toMessages(withThink, 'x'), 1000, chatMarkers(tok), { dropEmptyThinkRatio: 1, rand: () => 0.5 });
  assert.ok(tok.decode(Array.from(keep.ids)).includes('<think>'));
  assert.ok(!tok.decode(Array.from(drop.ids)).includes('<think>'));
  const sys = encodeChat(tok, toMessages(withThink, 'x'), 1000, chatMarkers(tok), { systemPromptRatio: 1, rand: () => 0 });
  assert.ok(tok.decode(Array.from(sys.ids)).startsWith('<|im_start|>system\n'));
});
