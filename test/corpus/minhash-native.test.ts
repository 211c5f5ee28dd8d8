// The native MinHash kernel (src/backends/cpu/minhash.cc) against the JS definition
// (src/corpus/minhash.ts: xxhash-wasm shingles, double-emulated 64-bit signature), bit for bit, at
// every ISA level this CPU has (MINIMIND_ISA's levels), on texts that reach every branch: xxh64's
// short and >= 32-byte inputs, multi-byte and astral characters, lone surrogates, word and
// character units, texts shorter than a shingle, texts that need the Treebank rules.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { loadAddon, ISA_LEVELS } from '../../src/backends/cpu/index.js';
import { minhashParams, shingles, shingleText, signature, textSignature, unitsOf } from '../../src/corpus/minhash.js';
import { splitWords } from '../../src/corpus/filters/words.js';
import { simplifyText } from '../../src/corpus/simplify.js';
import { mulberry32 } from '../../src/data/rng.js';

const PIECES = ['the', 'cat', 'cannot', "don't", '(x)', 'Mr.', 'e.g.', 'Ünïcödé', '汉字文本', '😀🚀', 'x', 'a-much-longer-word-of-more-than-thirty-two-bytes', '\ud800', 'é', '12,5', 'naïve', '\udc00z'];

function texts(): string[] {
  const rand = mulberry32(3);
  const out = ['', 'one two', 'one two three four five', '敏捷的棕色狐狸跳过了懒狗'];
  for (let i = 0; i < 60; i++) {
    const n = 1 + Math.floor(rand() * 80);
    out.push(Array.from({ length: n }, () => PIECES[Math.floor(rand() * PIECES.length)]).join(rand() < 0.2 ? '  ' : ' '));
  }
  return out;
}

test('native MinHash signatures equal the JS definition bit for bit, at every ISA level of this CPU', async () => {
  const addon = loadAddon();
  assert.ok(addon, 'the native addon must be built (npm run build:native)');
  const before = addon.getIsa();
  try {
    const tried = new Set<string>();
    for (const level of ISA_LEVELS) {
      const inEffect = addon.setIsa(level);
      if (tried.has(inEffect)) continue; // this CPU lacks `level`: setIsa fell back to one already checked
      tried.add(inEffect);
      for (const [n, H] of [[5, 112], [3, 20], [1, 9]]) {
        const p = minhashParams(H, 1 + n);
        for (const text of texts()) {
          for (const unit of ['word', 'char'] as const) {
            const joined = shingleText(text, unit);
            const sh = shingles(unitsOf(joined, unit), n, unit === 'word' ? ' ' : '');
            const sig = new Uint32Array(2 * H);
            const done = addon.minhashSignature(sig, new TextEncoder().encode(joined), unit === 'char', n, p.aHi, p.aLo, p.bHi, p.bLo);
            assert.equal(done, sh !== null, `${inEffect} n=${n} ${unit}: ${JSON.stringify(text)}`);
            if (sh) assert.deepEqual(sig, signature(sh, p), `${inEffect} n=${n} ${unit}: ${JSON.stringify(text)}`);
          }
        }
      }
    }
    assert.ok(tried.has('generic'));
  } finally {
    addon.setIsa(before);
  }
  // and through the path dedup takes (native when built, the default)
  const p = minhashParams(112, 1);
  for (const text of texts()) {
    const sh = shingles(splitWords(simplifyText(text)), 5, ' '); // datatrove's words, straight from the splitter
    assert.deepEqual(textSignature(shingleText(text, 'word'), 'word', 5, p), sh && signature(sh, p));
  }
});

test('native MinHash checks its arguments', () => {
  const addon = loadAddon();
  assert.ok(addon, 'the native addon must be built (npm run build:native)');
  const p = minhashParams(4, 1);
  const bytes = new TextEncoder().encode('a b');
  assert.throws(() => addon.minhashSignature(new Uint32Array(2), bytes, false, 1, p.aHi, p.aLo, p.bHi, p.bLo), /needs 8/);
  assert.throws(() => addon.minhashSignature(new Uint32Array(8), 'a b', false, 1, p.aHi, p.aLo, p.bHi, p.bLo), /must be a Uint8Array/);
  assert.throws(() => addon.minhashSignature(new Uint32Array(8), bytes, false, 0, p.aHi, p.aLo, p.bHi, p.bLo), /at least 1/);
});

test('a bad MINIMIND_MINHASH is one minimind: line with exit code 2, also when read on worker threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-minhash-env-'));
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, ['one two three four five six', 'seven eight nine ten eleven'].map((text) => JSON.stringify({ text })).join('\n') + '\n');
  for (const threads of ['1', '2']) {
    const output = join(dir, `out-${threads}.jsonl`);
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'data', 'dedup', input, '--near-only', '--threads', threads, '--output', output, '--no-progress'], { encoding: 'utf8', env: { ...process.env, MINIMIND_MINHASH: 'bogus' } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim(), "minimind: MINIMIND_MINHASH must be 'js' or 'native' (or unset for native when the addon is built), got 'bogus'");
    assert.equal(existsSync(output), false);
  }
});
