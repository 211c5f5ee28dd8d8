// Ids must equal Hugging Face tokenizers' (the `tokenizers` npm package, Rust) for MiniMind's v1,
// minimind2 and minimind-3 tokenizers over English, Chinese, code, emoji, whitespace runs, invalid
// surrogates, special-token text, real corpus lines and random Unicode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tokenizer } from '../../src/tokenizer/index.js';
import { EDGE_CASES, hfEncodeBatch, hfLoad, noShared, randomText, rng, sharedText, TOKENIZERS, VERSIONS } from './helpers.js';

function corpusSamples(): Record<string, string[]> {
  const lines = (s: string, n: number) => s.split('\n').slice(0, n).map((l) => l + '\n');
  const shakespeare = sharedText('tinyshakespeare/input.txt', 40_000);
  const hongloumeng = sharedText('zh-classics/hongloumeng.txt', 40_000);
  const wiki = sharedText('minimind-format/pretrain_wiki_demo.jsonl', 2_000_000).split('\n').slice(0, 40).filter((l) => l).map((l) => JSON.parse(l).text as string);
  return {
    'tinyshakespeare lines': lines(shakespeare, 300),
    'tinyshakespeare block': [shakespeare.slice(0, 20_000)],
    'hongloumeng lines (CRLF)': lines(hongloumeng, 200),
    'hongloumeng block': [hongloumeng.slice(0, 10_000)],
    'wiki demo texts': wiki,
    'our own source code': [readFileSync('src/tokenizer/bpe.ts', 'utf8'), readFileSync('src/tokenizer/added.ts', 'utf8')],
  };
}

for (const v of VERSIONS) {
  test(`${v}: ids identical to HF tokenizers`, { skip: noShared }, async (t) => {
    const ours = Tokenizer.load(`${TOKENIZERS}/${v}`);
    const ref = hfLoad(`${TOKENIZERS}/${v}/tokenizer.json`);
    const groups = { ...EDGE_CASES, ...corpusSamples() };
    const r = rng(1234);
    groups['random unicode'] = Array.from({ length: 400 }, () => randomText(r));
    for (const [name, texts] of Object.entries(groups)) {
      await t.test(name, async () => {
        const expected = await hfEncodeBatch(ref, texts);
        texts.forEach((text, i) => assert.deepEqual(ours.encode(text), expected[i], `text ${JSON.stringify(text.slice(0, 200))}`));
      });
    }
  });
}

test('known MiniMind encodings from the spec', { skip: noShared }, () => {
  const head = Tokenizer.load(`${TOKENIZERS}/head`);
  assert.deepEqual(head.encode('<|im_start|>assistant\n'), [1, 1388, 570, 811, 234]);
  assert.deepEqual(head.encode('<|im_end|>\n'), [2, 234]);
  assert.deepEqual(head.encode('<think>\n\n</think>\n\n'), [25, 234, 234, 26, 234, 234]);
  assert.deepEqual(['A', 'B', 'C', 'D'].map((c) => head.encode(c)[0]), [68, 69, 70, 71]);
  const v1 = Tokenizer.load(`${TOKENIZERS}/v1`);
  assert.deepEqual(v1.encode('<s>assistant\n'), [1, 1078, 538, 501, 201]);
  assert.deepEqual(['A', 'B', 'C', 'D'].map((c) => v1.encode(c)[0]), [35, 36, 37, 38]);
});

test('v1 ("a b" merges) and minimind2 (["a","b"] merges) share ids 3..6399', { skip: noShared }, () => {
  const v1 = Tokenizer.load(`${TOKENIZERS}/v1/tokenizer.json`);
  const m2 = Tokenizer.load(`${TOKENIZERS}/minimind2/tokenizer.json`);
  const text = sharedText('zh-classics/xiyouji.txt', 5000) + EDGE_CASES.english.join(' ');
  assert.deepEqual(v1.encode(text), m2.encode(text));
});

test('encodeBatch equals encode per text; vocab lookups and config ids', { skip: noShared }, () => {
  const tok = Tokenizer.load(`${TOKENIZERS}/head`);
  const texts = [...EDGE_CASES.chinese, ...EDGE_CASES.specials];
  assert.deepEqual(tok.encodeBatch(texts), texts.map((x) => tok.encode(x)));
  assert.equal(tok.vocabSize, 6400);
  assert.equal(tok.bosTokenId, 1);
  assert.equal(tok.eosTokenId, 2);
  assert.equal(tok.padTokenId, 0);
  assert.equal(tok.tokenToId('<think>'), 25);
  assert.equal(tok.idToToken(234), 'Ċ');
  assert.equal(tok.tokenToId('no such token'), undefined);
  assert.equal(tok.idToToken(99999), undefined);
  const v1 = Tokenizer.load(`${TOKENIZERS}/v1`);
  assert.equal(v1.bosTokenId, 1);
  assert.equal(v1.padTokenId, undefined);
});

test('encode(text, maxTokens) stops one word past maxTokens with a prefix of the full ids; maxTokenBytes bounds every token', { skip: noShared }, () => {
  for (const v of VERSIONS) {
    const tok = Tokenizer.load(`${TOKENIZERS}/${v}`);
    const text = sharedText('zh-classics/hongloumeng.txt', 20_000) + ' <|im_start|>user\nThe capital of France is Paris.<|im_end|>';
    const full = tok.encode(text);
    for (const limit of [0, 1, 100, full.length - 1, full.length, full.length + 10]) {
      const ids = tok.encode(text, limit);
      assert.deepEqual(ids, full.slice(0, ids.length), `${v}: a prefix at ${limit}`);
      if (limit >= full.length) assert.equal(ids.length, full.length);
      else assert.ok(ids.length > limit && ids.length <= limit + 64, `${v}: ${ids.length} ids at limit ${limit}`);
    }
    let longest = 0;
    for (let id = 0; id < tok.vocabSize; id++) longest = Math.max(longest, tok.tokenBytesOf(id)?.length ?? 0);
    assert.equal(tok.maxTokenBytes, longest);
    assert.ok(Buffer.byteLength(text) / tok.maxTokenBytes <= full.length);
  }
});
