// `data tokenize`: the pre-tokenized folder gives exactly the samples the stage would tokenize
// itself from the jsonl, and a stage refuses it with another tokenizer, kind or a shorter max length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenize } from '../../src/corpus/tokenize.js';
import { openTokenizer } from '../../src/corpus/tokenizer.js';
import { openDataset, type DatasetOptions } from '../../src/data/datasets.js';
import { trainTokenizer } from '../../src/tokenizer/index.js';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';
import { threadCorpusLines } from './thread-corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'mm-tokenize-'));
const qs = generateQuickstartData(3);
const tokA = join(dir, 'tokA');
const tokB = join(dir, 'tokB');
trainTokenizer({ texts: qs.pretrainTexts, vocabSize: 320, preset: 'minimind3' }).save(tokA);
trainTokenizer({ texts: qs.pretrainTexts.slice(0, 50), vocabSize: 300, preset: 'minimind3' }).save(tokB);
const sft = join(dir, 'sft.jsonl');
writeFileSync(sft, qs.sftConversations.slice(0, 40).map((conversations) => JSON.stringify({ conversations })).join('\n') + '\n' + '{broken\n');
const pre = join(dir, 'pre.jsonl');
writeFileSync(pre, qs.pretrainTexts.slice(0, 40).map((text) => JSON.stringify({ text })).join('\n') + '\n');

for (const [kind, file] of [['sft', sft], ['pretrain', pre]] as const) {
  test(`tokenize --kind ${kind}: the folder gives the samples the stage makes from the jsonl`, async () => {
    const t = openTokenizer(tokA);
    const out = join(dir, `${kind}-tok`);
    const s = await tokenize({ inputs: [file], output: out, kind, tokenizer: t, maxSeqLen: 96 });
    assert.equal(s.badLines, kind === 'sft' ? 1 : 0);
    const common = { kind, tokenizer: t.tok, tokenizerKey: t.fingerprint, maxLength: 96, cacheDir: join(dir, 'cache'), skipBadLines: true } as const;
    const fromJsonl = await openDataset({ ...common, files: [file] });
    const fromFolder = await openDataset({ ...common, files: [out] });
    assert.equal(fromFolder.size, fromJsonl.size);
    for (let i = 0; i < fromJsonl.samples.length; i++) assert.deepEqual(fromFolder.samples.get(i), fromJsonl.samples.get(i));
    // a longer run max length reads it too (samples are already within 96)
    assert.equal((await openDataset({ ...common, files: [out], maxLength: 128 })).size, fromJsonl.size);
  });
}

test('a stage refuses a folder tokenized with another tokenizer, for another kind, or longer than its max length', async () => {
  const a = openTokenizer(tokA);
  const b = openTokenizer(tokB);
  assert.notEqual(a.fingerprint, b.fingerprint);
  const out = join(dir, 'sft-tok-refuse');
  await tokenize({ inputs: [sft], output: out, kind: 'sft', tokenizer: a, maxSeqLen: 96 });
  const base: DatasetOptions = { kind: 'sft', files: [out], tokenizer: b.tok, tokenizerKey: b.fingerprint, maxLength: 96, cacheDir: join(dir, 'cache') };
  await assert.rejects(openDataset(base), /tokenized with another tokenizer \(fingerprint [0-9a-f]+, this run's is [0-9a-f]+\)/);
  await assert.rejects(openDataset({ ...base, tokenizer: a.tok, tokenizerKey: a.fingerprint, kind: 'pretrain' }), /tokenized for sft, not pretrain/);
  await assert.rejects(openDataset({ ...base, tokenizer: a.tok, tokenizerKey: a.fingerprint, maxLength: 64 }), /tokenized with max length 96, longer than this run's 64/);
});

// Enough records for several batches of 256 on each of two workers, with unreadable lines, records
// the encoder refuses and conversations truncation empties spread among them: the folder, the
// count of skipped lines and the lines logged must not depend on the thread count or on which
// worker finishes first.
for (const kind of ['sft', 'pretrain'] as const) {
  test(`tokenize --kind ${kind} --threads 2 writes the folder of one thread, byte for byte`, async () => {
    const lines = threadCorpusLines(kind, qs, { truncated: true });
    const n = kind === 'sft' ? qs.sftConversations.length : 2 * qs.pretrainTexts.length; // records threadCorpusLines numbers
    const file = join(dir, `many-${kind}.jsonl`);
    writeFileSync(file, lines.join('\n') + '\n');
    const t = openTokenizer(tokA);
    const run = async (threads: number) => {
      const output = join(dir, `many-${kind}-t${threads}`);
      const log: string[] = [];
      const s = await tokenize({ inputs: [file], output, kind, tokenizer: t, maxSeqLen: 96, threads, log: (m) => log.push(m.replace(output, 'OUT')) });
      const files = Object.fromEntries(readdirSync(output).sort().map((f) => [f, readFileSync(join(output, f))]));
      return { badLines: s.badLines, meta: s.meta, log, files, rejects: s.rejects.lines() };
    };
    const one = await run(1);
    const two = await run(2);
    assert.ok(one.meta.count > 900, `${one.meta.count} samples`);
    assert.equal(one.badLines, Math.ceil((n - 5) / 97) + Math.ceil((n - 7) / 131));
    // the skipped rows are counted by reason with their first places, one line each (as the other data commands)
    assert.equal(one.rejects.length, 2, one.rejects.join('\n'));
    assert.match(one.rejects.join('\n'), new RegExp(` +${Math.ceil((n - 5) / 97)} {2}invalid JSON .*\\(first at .*many-${kind}\\.jsonl:7, `));
    assert.deepEqual(two.rejects, one.rejects);
    assert.deepEqual(Object.keys(two.files), Object.keys(one.files));
    for (const f of Object.keys(one.files)) assert.ok(two.files[f].equals(one.files[f]), `${f} differs between --threads 1 and 2`);
    assert.deepEqual(two.log, one.log);
    assert.deepEqual(two.meta, one.meta);
  });
}

test('tokenize replaces only a folder it made: a run folder or a file given as --output is refused, untouched', async () => {
  const t = openTokenizer(tokA);
  const runDir = join(dir, 'a-run');
  mkdirSync(join(runDir, 'model'), { recursive: true });
  writeFileSync(join(runDir, 'model', 'model.safetensors'), 'weights');
  await assert.rejects(tokenize({ inputs: [pre], output: runDir, kind: 'pretrain', tokenizer: t, maxSeqLen: 64 }), /--output .*a-run is a folder that 'minimind data tokenize' did not make/);
  assert.equal(readFileSync(join(runDir, 'model', 'model.safetensors'), 'utf8'), 'weights');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'keep');
  await assert.rejects(tokenize({ inputs: [pre], output: file, kind: 'pretrain', tokenizer: t, maxSeqLen: 64 }), /is a file; tokenize writes a folder/);
  assert.equal(readFileSync(file, 'utf8'), 'keep');
  // its own earlier folder is replaced
  const out = join(dir, 'again-tok');
  await tokenize({ inputs: [pre], output: out, kind: 'pretrain', tokenizer: t, maxSeqLen: 64 });
  const s = await tokenize({ inputs: [pre], output: out, kind: 'pretrain', tokenizer: t, maxSeqLen: 96 });
  assert.equal(JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')).maxLength, 96);
  assert.ok(s.meta.count > 0);
});
