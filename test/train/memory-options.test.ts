// The memory options of training on the CPU: --gradient-checkpointing trains exactly as the plain
// run (same losses step by step), --batch-size auto keeps the stage's batch where there is no GPU
// to fit, --max-gpu-memory sizes parse and are refused off the GPU, and the micro-batch search
// takes the largest candidate that does not run out of memory. The GPU side (the allocator's cap,
// the probe on a real card) is test/backends/cuda-memory.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOutOfMemory, UserError } from '../../src/core/errors.js';
import { pretrain } from '../../src/train/pretrain.js';
import { memorySizeOption } from '../../src/train/options.js';
import { largestFit, microBatchCandidates } from '../../src/train/auto-batch.js';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';

const TOK = '../shared/data/minimind-tokenizer/head';
const skip = existsSync(TOK) ? false : `${TOK} not found (shared data absent)`;
const dir = mkdtempSync(join(tmpdir(), 'mm-memory-'));
const pre = join(dir, 'pretrain.jsonl');
writeFileSync(pre, generateQuickstartData(3).pretrainTexts.slice(0, 32).map((t) => JSON.stringify({ text: t })).join('\n'));
const args = { data: pre, tokenizer: TOK, preset: 'tiny-3', hiddenSize: 32, numHiddenLayers: 2, maxSeqLen: 48, batchSize: 8, accumulationSteps: 2, logInterval: 1, saveInterval: 100, learningRate: 3e-3, epochs: 2 };

test('pretrain --gradient-checkpointing: the same losses, step by step, as the plain run', { skip }, async () => {
  const plain = await pretrain({ ...args, out: join(dir, 'plain') });
  const ckpt = await pretrain({ ...args, out: join(dir, 'ckpt'), gradientCheckpointing: true });
  assert.equal(plain.steps, 4);
  assert.deepEqual(ckpt.losses, plain.losses);
});

test('pretrain --batch-size auto on the CPU: the stage\'s batch and accumulation, said in one line', { skip }, async () => {
  const said: string[] = [];
  const r = await pretrain({ ...args, batchSize: 'auto', out: join(dir, 'auto'), maxSteps: 1, log: (m) => said.push(m) });
  assert.equal(r.steps, 1);
  assert.ok(said.some((m) => m.startsWith('--batch-size auto: nothing to fit on the') && m.endsWith('batch 32 x 2 accumulation steps')), said.join('\n'));
});

test('--max-gpu-memory: sizes with units; refused without a unit, below 1M, and off the GPU', async () => {
  assert.equal(memorySizeOption('8G', 'maxGpuMemory'), 8 * 2 ** 30);
  assert.equal(memorySizeOption('8GiB', 'maxGpuMemory'), 8 * 2 ** 30);
  assert.equal(memorySizeOption('512m', 'maxGpuMemory'), 512 * 2 ** 20);
  assert.equal(memorySizeOption('1.5GB', 'maxGpuMemory'), 1.5 * 2 ** 30);
  assert.equal(memorySizeOption(2 ** 24, 'maxGpuMemory'), 2 ** 24);
  for (const bad of ['8', 'lots', '100K', '-1G']) assert.throws(() => memorySizeOption(bad, 'maxGpuMemory'), (e: Error) => e instanceof UserError && e.message.startsWith('--max-gpu-memory must be a size with a unit'), bad);
  await assert.rejects(pretrain({ ...args, out: join(dir, 'cap'), device: 'cpu', maxGpuMemory: '1G' }), (e: Error) => e instanceof UserError && /--max-gpu-memory caps the GPU's memory; it needs --device cuda/.test(e.message));
  assert.ok(!existsSync(join(dir, 'cap')), 'nothing written');
});

test('the command line: --batch-size auto and --gradient-checkpointing train; --max-gpu-memory off the GPU is one line, exit 2', { skip }, () => {
  const cli = (extra: string[], out: string) => spawnSync(process.execPath, ['dist/src/cli/main.js', 'pretrain', '--data', pre, '--tokenizer', TOK, '--out', join(dir, out), '--preset', 'tiny-3', '--hidden-size', '32', '--num-hidden-layers', '1', '--max-seq-len', '48', '--accumulation-steps', '1', '--max-steps', '1', '--device', 'cpu', ...extra], { encoding: 'utf8' });
  const ok = cli(['--batch-size', 'auto', '--gradient-checkpointing'], 'cli-auto');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /--batch-size auto: nothing to fit on the \w+ backend; batch 32 x 1 accumulation steps/);
  const capped = cli(['--max-gpu-memory', '8G'], 'cli-cap');
  assert.equal(capped.status, 2);
  assert.match(capped.stderr.trim(), /^minimind: --max-gpu-memory caps the GPU's memory; it needs --device cuda \(training runs on the \w+ backend\)$/);
  const bad = cli(['--max-gpu-memory', '8'], 'cli-bad');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.trim(), /^minimind: --max-gpu-memory must be a size with a unit of at least 1M, like 8G or 512M, got '8'$/);
  assert.ok(!existsSync(join(dir, 'cli-cap')) && !existsSync(join(dir, 'cli-bad')), 'nothing written');
});

test('the micro-batch search: divisors largest first; the first that does not run out of memory; other errors pass', () => {
  assert.deepEqual(microBatchCandidates(12), [12, 6, 4, 3, 2, 1]);
  assert.deepEqual(microBatchCandidates(7), [7, 1]);
  const oom = () => Object.assign(new Error('GPU out of memory'), { code: 'MINIMIND_OUT_OF_MEMORY' });
  assert.ok(isOutOfMemory(oom()) && !isOutOfMemory(new Error('GPU out of memory')));
  const tried: number[] = [];
  assert.equal(largestFit([12, 6, 4, 3], (m) => { tried.push(m); if (m > 4) throw oom(); }), 4);
  assert.deepEqual(tried, [12, 6, 4]);
  assert.equal(largestFit([2, 1], () => { throw oom(); }), null);
  assert.throws(() => largestFit([2, 1], () => { throw new Error('a bug'); }), /a bug/);
});

test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
