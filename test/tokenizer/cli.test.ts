// `minimind tokenizer train | encode | decode` end to end through the built CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '../../src/tokenizer/index.js';

const cli = 'dist/src/cli/main.js';
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'tokenizer', ...args], { encoding: 'utf8' });

test('train, encode (text and jsonl) and decode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokcli-'));
  try {
    const corpus = join(dir, 'corpus.jsonl');
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ text: `Story ${i}: the cat sat on the mat. 小猫坐在垫子上。` }));
    writeFileSync(corpus, lines.join('\n') + '\n');
    const out = join(dir, 'tok');
    let r = run('train', '--data', corpus, '--vocab-size', '400', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(out, 'tokenizer.json')) && existsSync(join(out, 'tokenizer_config.json')));
    const tok = Tokenizer.load(out);
    assert.equal(tok.vocabSize, 400);
    assert.equal(tok.eosTokenId, 2);

    r = run('encode', '--tokenizer', out, '--text', 'the cat<|im_end|>');
    assert.equal(r.status, 0, r.stderr);
    const ids = JSON.parse(r.stdout);
    assert.deepEqual(ids, tok.encode('the cat<|im_end|>'));
    assert.equal(ids[ids.length - 1], 2);

    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    const texts = ['first line', '第二行', 'third <|im_start|> line'];
    writeFileSync(input, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    r = run('encode', '--tokenizer', join(out, 'tokenizer.json'), '--input', input, '--output', output);
    assert.equal(r.status, 0, r.stderr);
    const got = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l).ids);
    assert.deepEqual(got, texts.map((t) => tok.encode(t)));

    r = run('decode', '--tokenizer', out, '--ids', JSON.stringify(tok.encode('<|im_start|>小猫')), '--skip-special-tokens');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '小猫\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input gives one-line errors and exit code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokcli-'));
  try {
    const corpus = join(dir, 'c.txt');
    writeFileSync(corpus, 'hello\n');
    let r = run('train', '--data', corpus, '--vocab-size', '100', '--out', join(dir, 'o'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /vocab size 100 is smaller than the 256-byte alphabet plus 3 special tokens/);
    r = run('train', '--data', join(dir, 'missing.txt'), '--vocab-size', '1000', '--out', join(dir, 'o'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /file not found/);
    r = run('encode', '--tokenizer', join(dir, 'nope'), '--text', 'x');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /tokenizer not found/);
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, '{"text": "ok"}\n{"txt": "wrong key"}\n');
    r = run('train', '--data', corpus, '--vocab-size', '300', '--out', join(dir, 'o'));
    assert.equal(r.status, 0, r.stderr);
    r = run('encode', '--tokenizer', join(dir, 'o'), '--input', input, '--output', join(dir, 'out.jsonl'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /in\.jsonl:2: expected \{"text": "\.\.\."\}/);
    r = run('frobnicate');
    assert.equal(r.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --out a symlink to a folder still to be made: the tokenizer goes where it points, and the link stays', () => {
  // (once: mkdir refused the dangling link with a stack trace, and the clean-up deleted the user's link)
  const dir = mkdtempSync(join(tmpdir(), 'tokcli-'));
  try {
    const corpus = join(dir, 'corpus.jsonl');
    writeFileSync(corpus, Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `Story ${i}: the cat sat on the mat.` })).join('\n') + '\n');
    symlinkSync(join('elsewhere', 'tok'), join(dir, 'link'));
    const r = run('train', '--data', corpus, '--vocab-size', '300', '--out', join(dir, 'link'));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(join(dir, 'link')).isSymbolicLink());
    assert.equal(readlinkSync(join(dir, 'link')), join('elsewhere', 'tok'));
    assert.ok(existsSync(join(dir, 'elsewhere', 'tok', 'tokenizer.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
