// Training: the same corpus and settings give the very same merges as HF's BpeTrainer (fixtures from
// tools/tokenizer-fixtures.py), the saved tokenizer.json is byte-identical to HF's, HF loads what we
// write and encodes identically; presets put the special tokens at MiniMind's ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAT_TEMPLATES, Tokenizer, trainBpe, trainTokenizer } from '../../src/tokenizer/index.js';
import { EDGE_CASES, hfEncode, hfFromString, noShared, SHARED } from './helpers.js';

interface TrainFixture { name: string; files: string[]; vocab_size: number; special_tokens: string[]; merges: string[]; tokenizer_json_sha256: string }
const fixtures: TrainFixture[] = JSON.parse(readFileSync('test/tokenizer/fixtures/train-merges.json', 'utf8'));

for (const f of fixtures) {
  test(`same merges as HF BpeTrainer: ${f.name}`, { skip: noShared }, async () => {
    const minimind3 = f.special_tokens.length === 36;
    // The fixture passes MiniMind's special-token lists; the ChatML and minimind-3 presets are inferred.
    const tok = trainTokenizer({ files: f.files.map((p) => `${SHARED}/${p}`), vocabSize: f.vocab_size, specialTokens: f.special_tokens });
    assert.equal(tok.chatTemplate, minimind3 ? CHAT_TEMPLATES.minimind3 : CHAT_TEMPLATES.minimind2);
    if (minimind3) assert.equal(tok.isSpecialId(25), false, '<think> is a plain added token, as MiniMind post-edits it');
    const merges = tok.json.model.merges.map((m) => (m as string[]).join(' '));
    let same = 0;
    while (same < merges.length && merges[same] === f.merges[same]) same++;
    assert.equal(same, f.merges.length, `first difference at merge ${same}: ours ${merges[same]} vs HF ${f.merges[same]}`);
    assert.equal(merges.length, f.merges.length);
    assert.equal(tok.vocabSize, f.vocab_size);
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    try {
      tok.save(dir);
      const text = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
      if (!minimind3) assert.equal(createHash('sha256').update(text).digest('hex'), f.tokenizer_json_sha256, 'tokenizer.json differs from the one HF saves');
      // HF loads our file and encodes like we do (specials and plain added tokens included)
      const ref = hfFromString(text);
      for (const s of [...EDGE_CASES.specials, ...EDGE_CASES.chinese, ...EDGE_CASES.english, ...EDGE_CASES.code]) {
        assert.deepEqual(tok.encode(s), await hfEncode(ref, s), s);
      }
      const back = Tokenizer.load(dir);
      assert.deepEqual(back.encode('<|im_start|>你好 world'), tok.encode('<|im_start|>你好 world'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('HF tie-break: equal counts go to the smallest (left id, right id)', () => {
  // 'ab' and 'cd' both occur twice; 'a' < 'c' so (a, b) merges first, then (c, d), then (ab, cd).
  const { merges, vocab } = trainBpe(new Map([['abcd', 2]]), { vocabSize: 256 + 3, specialTokens: [] });
  assert.deepEqual(merges, [['a', 'b'], ['c', 'd'], ['ab', 'cd']]);
  assert.equal(vocab.length, 259);
  // counts decide before ids: 'cd' in two words beats 'ab' in one
  const r = trainBpe(new Map([['ab', 1], ['cd', 2]]), { vocabSize: 257, specialTokens: [] });
  assert.deepEqual(r.merges, [['c', 'd']]);
});

test('presets: ChatML (quickstart), v1 and minimind-3 ids, config and template', () => {
  const texts = ['Hello world, hello tokenizer! 你好，世界。\n'.repeat(50), 'The quick brown fox jumps over the lazy dog.\n'.repeat(20)];
  const chatml = trainTokenizer({ texts, vocabSize: 300 }); // ChatML is the default
  const custom = trainTokenizer({ texts, vocabSize: 300, specialTokens: ['<pad>', '<bos>'] });
  assert.deepEqual([custom.tokenToId('<pad>'), custom.tokenToId('<bos>'), custom.chatTemplate, custom.bosTokenId], [0, 1, undefined, undefined]);
  assert.deepEqual([0, 1, 2].map((i) => chatml.idToToken(i)), ['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
  assert.equal(chatml.bosTokenId, 1);
  assert.equal(chatml.eosTokenId, 2);
  assert.equal(chatml.padTokenId, 0);
  assert.equal(chatml.chatTemplate, CHAT_TEMPLATES.minimind2);
  assert.equal(chatml.vocabSize, 300);
  assert.equal(chatml.idToToken(3), '!'); // byte alphabet right after the specials, sorted by code point
  assert.equal(
    chatml.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }),
    '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  );
  assert.deepEqual(chatml.encode('<|im_start|>user'), [1, ...chatml.encode('user')]);
  const v1 = trainTokenizer({ texts, vocabSize: 300, preset: 'v1' });
  assert.deepEqual([v1.tokenToId('<unk>'), v1.bosTokenId, v1.eosTokenId, v1.padTokenId], [0, 1, 2, undefined]);
  const m3 = trainTokenizer({ texts, vocabSize: 400, preset: 'minimind3' });
  assert.equal(m3.tokenToId('<think>'), 25);
  assert.equal(m3.tokenToId('<|buffer9|>'), 35);
  assert.equal(m3.idToToken(36), '!');
  assert.equal(m3.isSpecialId(20), true);
  assert.equal(m3.isSpecialId(25), false);
  assert.equal(m3.config.model_max_length, 131072);
});

test('jsonl text and conversations, and txt files, are streamed like HF feeds them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  try {
    const jsonl = join(dir, 'a.jsonl');
    writeFileSync(jsonl, [
      JSON.stringify({ text: 'alpha beta alpha' }),
      JSON.stringify({ conversations: [{ role: 'user', content: 'gamma' }, { role: 'assistant', content: 'delta alpha' }] }),
      '',
    ].join('\n'));
    const txt = join(dir, 'b.txt');
    writeFileSync(txt, 'alpha beta\nalpha');
    const tok = trainTokenizer({ files: [jsonl, txt], vocabSize: 280, specialTokens: [] });
    assert.equal(tok.encode('alpha').length, 1, 'the most frequent word becomes one token');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"text": "ok"}\n{"text": \n');
    assert.throws(() => trainTokenizer({ files: [bad], vocabSize: 300 }), /bad\.jsonl:2: not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vocab size smaller than alphabet + specials is a clear error', () => {
  assert.throws(() => trainTokenizer({ texts: ['x'], vocabSize: 258, preset: 'chatml' }), /vocab size 258 is smaller than the 256-byte alphabet plus 3 special tokens \(259\)/);
  assert.throws(() => trainTokenizer({ texts: ['x'], vocabSize: 100, preset: 'minimind3' }), /plus 36 special tokens \(292\)/);
  assert.throws(() => trainTokenizer({ vocabSize: 1000 }), /no training data/);
  assert.throws(() => trainTokenizer({ files: ['/no/such/file.txt'], vocabSize: 1000 }), /no\/such\/file\.txt/);
});
