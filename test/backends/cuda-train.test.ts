// The trainer on the CUDA backend, where a step reads nothing to the host: losses and Σg² stay on
// the device and are read at log lines, checkpoints and the end (train/step-stats.ts), and the
// optimizer step checks a non-finite one on the device (AdamW.step(guard)). Needs a GPU (`npm run
// test:cuda`); skipped elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCudaBackend, cudaLoadError } from '../../src/backends/cuda/index.js';
import { getBackend, setBackend } from '../../src/core/device.js';
import { openDataset } from '../../src/data/datasets.js';
import { train, type TrainConfig, type TrainTask } from '../../src/train/trainer.js';
import { causalLmLoss } from '../../src/train/losses.js';
import { UserError } from '../../src/core/errors.js';
import * as ops from '../../src/ops/index.js';
import { FakeTokenizer } from '../data/fake-tokenizer.js';
import { ToyLM } from '../train/toy-model.js';
import { relErr } from './kernel-helpers.js';

const cuda = loadCudaBackend();
const skip = cuda === null ? `CUDA backend unavailable: ${cudaLoadError()}` : false;

async function onCuda<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const prev = getBackend();
  const dir = mkdtempSync(join(tmpdir(), 'mm-cuda-train-'));
  setBackend(cuda!);
  try {
    return await fn(dir);
  } finally {
    setBackend(prev);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dataset(dir: string) {
  const f = join(dir, 'p.jsonl');
  const words = ['abab', 'cdcd', 'efef', 'abcd', 'dcba', 'aabb'];
  writeFileSync(f, Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: words[i % words.length].repeat(2 + (i % 3)) })).join('\n'));
  return openDataset({ kind: 'pretrain', files: [f], tokenizer: new FakeTokenizer(), tokenizerKey: 'fake', maxLength: 16, cacheDir: join(dir, 'cache') });
}

function task(ds: Awaited<ReturnType<typeof dataset>>): TrainTask {
  const model = new ToyLM(3 + 128, 8, 1);
  return {
    train: ds,
    padId: 0,
    params: model.namedParameters(),
    step: (b) => ({ loss: causalLmLoss(model.forward(b.inputIds, b.B, b.T), b.labels, b.B, b.T) }),
    saveModel: (d) => writeFileSync(join(d, 'weights.json'), '[]'),
  };
}

const cfg = (outDir: string, extra: Partial<TrainConfig> = {}): TrainConfig => ({
  stage: 'pretrain', outDir, epochs: 3, batchSize: 4, accumulationSteps: 2, lr: 0.05, gradClip: 1, logInterval: 4, saveInterval: 100, seed: 7, ...extra,
});

test('cuda trainer: reading at log lines only (the GPU default) gives the losses of reading every step', { skip }, () =>
  onCuda(async (dir) => {
    const ds = await dataset(dir);
    const progress: number[] = [];
    const deferred = await train(cfg(join(dir, 'a'), { onProgress: (p) => progress.push(p.step) }), task(ds));
    const each = await train(cfg(join(dir, 'b'), { hostReadInterval: 1 }), task(ds));
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8, 9], 'every step reported, in order');
    assert.equal(deferred.losses.length, 9);
    // scatter-adds use atomics on the GPU, so two runs agree to float rounding, not bit for bit
    assert.ok(relErr(deferred.losses, each.losses) < 1e-5, `${deferred.losses} vs ${each.losses}`);
    assert.ok(deferred.finalLoss < deferred.losses[0] * 0.8);
  }));

test('cuda trainer: a non-finite gradient is skipped on the device and reported at the next read, naming its step', { skip }, () =>
  onCuda(async (dir) => {
    const ds = await dataset(dir);
    const t = task(ds);
    const [, w] = t.params[1];
    let calls = 0;
    const bad: TrainTask = { ...t, step: (b) => (calls++ === 2 ? { loss: ops.sum(ops.scale(ops.scale(ops.scale(w, 1e-30), 1e30), 1e30)) } : t.step(b)) };
    const c = (out: string, extra: Partial<TrainConfig> = {}) => cfg(out, { accumulationSteps: 1, ...extra });
    // reads after step 1 (the first log line) and step 4 (a log line): step 3 is found at step 4
    await assert.rejects(train(c(join(dir, 'bad')), bad), (e: Error) => e instanceof UserError && /gradient norm is Infinity at step 3; the step was not taken \(nor the 1 after it, before this check\)/.test(e.message));
    assert.ok(!existsSync(join(dir, 'bad', 'checkpoints', 'latest.json')), 'nothing saved');
    const good = task(ds);
    await train(c(join(dir, 'good'), { stopAfterSteps: 2 }), good);
    t.params.forEach(([name, p], i) => assert.ok(relErr(p.toArray(), good.params[i][1].toArray()) < 1e-6, `${name}: the weights after step 2`));
  }));
