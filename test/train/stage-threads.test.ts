// The stages tokenize their jsonl into <run>/cache on --threads worker threads: the cache must be
// byte for byte the one a single thread writes (same key, same ids.bin / mask.bin / offsets.bin /
// meta.json, same skipped lines logged), and training on it must see the same batches. The data
// has enough distinct records for several 256-record batches on each of two workers, with
// malformed lines among them, so batches taken in completion order instead of record order would
// change the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pretrain } from '../../src/train/pretrain.js';
import { sft } from '../../src/train/sft.js';
import { openDataset, type DatasetOptions } from '../../src/data/datasets.js';
import { workerEncoder } from '../../src/corpus/encode-workers.js';
import { openTokenizer } from '../../src/corpus/tokenizer.js';
import { trainTokenizer } from '../../src/tokenizer/index.js';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';
import { threadCorpusLines } from '../corpus/thread-corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'mm-stage-threads-'));
const qs = generateQuickstartData(3);
const tok = join(dir, 'tok');
trainTokenizer({ texts: qs.pretrainTexts, vocabSize: 320, preset: 'minimind3' }).save(tok);

function corpus(kind: 'pretrain' | 'sft'): string {
  const file = join(dir, `${kind}.jsonl`);
  writeFileSync(file, threadCorpusLines(kind, qs).join('\n') + '\n');
  return file;
}

/** The run's cache folders: name -> { file -> bytes }. */
function cacheOf(out: string): Record<string, Record<string, Buffer>> {
  const cache = join(out, 'cache');
  return Object.fromEntries(readdirSync(cache).sort().map((d) => [d, Object.fromEntries(readdirSync(join(cache, d)).sort().map((f) => [f, readFileSync(join(cache, d, f))]))]));
}

for (const [kind, stage] of [['pretrain', pretrain], ['sft', sft]] as const) {
  test(`${kind} --threads 2 builds the cache of --threads 1, byte for byte, and trains on the same batches`, async () => {
    const data = corpus(kind);
    const run = async (threads: number) => {
      const out = join(dir, `${kind}-t${threads}`);
      const log: string[] = [];
      const s = await stage({ data, tokenizer: tok, preset: 'tiny-3', hiddenSize: 32, numHiddenLayers: 1, maxSeqLen: 96, batchSize: 8, maxSteps: 2, skipBadLines: true, threads, out, log: (m) => log.push(m.replaceAll(out, 'OUT')) });
      return { losses: s.losses, cache: cacheOf(out), log };
    };
    const one = await run(1);
    const two = await run(2);
    assert.ok(two.log.includes('tokenizing on 2 worker threads'), `the threaded path ran: ${two.log.join(' | ')}`);
    assert.ok(!one.log.some((m) => m.includes('worker threads')));
    const [name] = Object.keys(one.cache);
    assert.deepEqual(Object.keys(two.cache), [name], 'the same cache key');
    const meta = JSON.parse(one.cache[name]['meta.json'].toString());
    assert.ok(meta.count > 900, `${meta.count} samples`);
    assert.ok(meta.badLines > 10, `${meta.badLines} skipped lines`);
    assert.deepEqual(Object.keys(two.cache[name]), Object.keys(one.cache[name]));
    for (const f of Object.keys(one.cache[name])) assert.ok(two.cache[name][f].equals(one.cache[name][f]), `${f} differs between --threads 1 and 2`);
    assert.deepEqual(two.log.filter((m) => !m.includes('worker threads')), one.log);
    assert.deepEqual(two.losses, one.losses);
  });
}

test('with the SFT augmentations (a random stream in record order) the encoding stays on one thread: the same store', async () => {
  const data = corpus('sft');
  const t = openTokenizer(tok);
  const common: Omit<DatasetOptions, 'cacheDir'> = { kind: 'sft', files: [data], tokenizer: t.tok, tokenizerKey: t.fingerprint, maxLength: 96, skipBadLines: true, systemPromptRatio: 0.5, seed: 7 };
  const plain = await openDataset({ ...common, cacheDir: join(dir, 'aug1') });
  const threaded = await openDataset({ ...common, cacheDir: join(dir, 'aug2'), encode: workerEncoder(tok, 2) });
  assert.equal(threaded.size, plain.size);
  const files = (d: string) => readdirSync(d).sort().map((f) => readFileSync(join(d, f)));
  assert.deepEqual(files(threaded.cacheDir!), files(plain.cacheDir!));
});

test('--threads that is not a positive integer is one line, before anything is written', async () => {
  const out = join(dir, 'bad-threads');
  for (const threads of [0, 1.5]) await assert.rejects(pretrain({ data: corpus('pretrain'), tokenizer: tok, preset: 'tiny-3', threads, out }), { name: 'UserError', message: `--threads must be an integer ≥ 1, got ${threads}` });
  assert.ok(!readdirSync(dir).includes('bad-threads'));
});

test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
