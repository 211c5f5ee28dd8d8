// Decoding: decode(encode(x)) == x on random Unicode; decode equals HF's (skip_special_tokens too, and
// on random id sequences that spell invalid UTF-8); streaming decode never emits a broken character
// and concatenates to decode().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer } from '../../src/tokenizer/index.js';
import { isWellFormed, EDGE_CASES, hfLoad, noShared, randomText, rng, TOKENIZERS, VERSIONS } from './helpers.js';

for (const v of VERSIONS) {
  test(`${v}: decode(encode(x)) == x on random Unicode`, { skip: noShared }, () => {
    const tok = Tokenizer.load(`${TOKENIZERS}/${v}`);
    const r = rng(7);
    const texts = [...Array.from({ length: 1000 }, () => randomText(r, 80)), ...Object.values(EDGE_CASES).flat().filter(isWellFormed)];
    for (const x of texts) assert.equal(tok.decode(tok.encode(x)), x, JSON.stringify(x));
  });

  test(`${v}: decode equals HF decode (with and without skip_special_tokens, invalid UTF-8)`, { skip: noShared }, async () => {
    const tok = Tokenizer.load(`${TOKENIZERS}/${v}`);
    const ref = hfLoad(`${TOKENIZERS}/${v}/tokenizer.json`);
    const r = rng(99);
    const idLists = EDGE_CASES.specials.map((s) => tok.encode(s));
    for (let i = 0; i < 300; i++) idLists.push(Array.from({ length: 1 + Math.floor(r() * 12) }, () => Math.floor(r() * 6400)));
    idLists.push([0, 1, 2, 3, 4, 5, 6399, 6400, 123456]); // unknown ids are dropped, as in HF
    for (const ids of idLists) {
      for (const skip of [false, true]) {
        assert.equal(tok.decode(ids, { skipSpecialTokens: skip }), await ref.decode(ids.filter((i) => i < 6400), skip), `ids ${JSON.stringify(ids)} skip=${skip}`);
      }
    }
  });
}

test('minimind-3: skipSpecialTokens drops specials but keeps <think> and other plain added tokens', { skip: noShared }, () => {
  const tok = Tokenizer.load(`${TOKENIZERS}/head`);
  const ids = tok.encode('<|im_start|>assistant\n<think>\nhmm\n</think>\n\nhi<|im_end|>');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'assistant\n<think>\nhmm\n</think>\n\nhi');
});

test('decodeStream: no broken characters, concatenation equals decode', { skip: noShared }, () => {
  const tok = Tokenizer.load(`${TOKENIZERS}/minimind2`);
  const r = rng(5);
  const texts = [...Array.from({ length: 300 }, () => randomText(r, 60)), '😀 你好 👨‍👩‍👧‍👦<|im_end|>'];
  let held = 0;
  for (const x of texts) {
    const ids = tok.encode(x);
    const s = tok.decodeStream();
    let out = '';
    for (const id of ids) {
      const piece = s.push(id);
      assert.ok(!piece.includes('\ufffd'), `broken char emitted for ${JSON.stringify(x)}`);
      assert.ok(isWellFormed(piece));
      if (piece === '') held++;
      out += piece;
    }
    out += s.flush();
    assert.equal(out, x);
  }
  assert.ok(held > 0, 'some tokens end mid-character, so the stream must have held bytes back');
  // An unfinished character is only flushed at the end, as U+FFFD, like decode().
  const partial = tok.encode('😀').slice(0, 1);
  const s = tok.decodeStream();
  assert.equal(s.push(partial[0]), '');
  assert.equal(s.flush(), tok.decode(partial));
  // skipSpecialTokens applies to the stream too
  const s2 = tok.decodeStream({ skipSpecialTokens: true });
  assert.equal(tok.encode('<|im_start|>hi').map((id) => s2.push(id)).join('') + s2.flush(), 'hi');
});
