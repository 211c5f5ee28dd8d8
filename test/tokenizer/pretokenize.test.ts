// The hand-written GPT-2 scanner splits exactly like the GPT-2 regex (its living definition).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt2PreTokenizer } from '../../src/tokenizer/pretokenize.js';
import { EDGE_CASES, randomTextWithSurrogates, rng } from './helpers.js';

test('scanner == regex on edge cases and random text with lone surrogates', () => {
  const p = new Gpt2PreTokenizer();
  const r = rng(11);
  const texts = [
    ...Object.values(EDGE_CASES).flat(),
    "'s's 're'll 'x '' ' a  'S 'RE 've'm'd", '  a\t\t b', ' ', 'a ', ' \u00a0x', '𝐀𝐁 𠀀𠀁 1𝟙 😀😀', '\ud83d\ude00\ud83d',
    ...Array.from({ length: 20000 }, () => randomTextWithSurrogates(r, 50)),
  ];
  for (const t of texts) assert.deepEqual(p.split(t), p.splitWithRegex(t), JSON.stringify(t));
});

test('known splits', () => {
  const p = new Gpt2PreTokenizer();
  assert.deepEqual(p.split("Hello world!  It's 2024\n\n  ok"), ['Hello', ' world', '!', ' ', ' It', "'s", ' 2024', '\n\n ', ' ok']);
  assert.deepEqual(p.split('你好，世界'), ['你好', '，', '世界']);
  const prefixed = new Gpt2PreTokenizer({ addPrefixSpace: true, useRegex: true });
  assert.deepEqual(prefixed.split('hi there'), [' hi', ' there']);
  const whole = new Gpt2PreTokenizer({ addPrefixSpace: false, useRegex: false });
  assert.deepEqual(whole.split('hi there'), ['hi there']);
});
