// The shared training loop on a toy model: loss falls, --resume after a stop reproduces the
// uninterrupted run's losses exactly, checkpoints and reports are written, held-out loss logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '../../src/data/datasets.js';
import { train, TrainConfig, TrainTask } from '../../src/train/trainer.js';
import { causalLmLoss } from '../../src/train/losses.js';
import { FakeTokenizer } from '../data/fake-tokenizer.js';
import { ToyLM } from './toy-model.js';
import { UserError } from '../../src/core/errors.js';
import * as ops from '../../src/ops/index.js';

async function setup(dir: string) {
  const f = join(dir, 'p.jsonl');
  const words = ['abab', 'cdcd', 'efef', 'abcd', 'dcba', 'aabb'];
  writeFileSync(f, Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: words[i % words.length].repeat(2 + (i % 3)) })).join('\n'));
  return openDataset({ kind: 'pretrain', files: [f], tokenizer: new FakeTokenizer(), tokenizerKey: 'fake', maxLength: 16, cacheDir: join(dir, 'cache') });
}

function task(ds: Awaited<ReturnType<typeof setup>>, seed = 1): TrainTask {
  const model = new ToyLM(3 + 128, 8, seed);
  return {
    train: ds,
    eval: ds,
    padId: 0,
    params: model.namedParameters(),
    step: (b) => ({ loss: causalLmLoss(model.forward(b.inputIds, b.B, b.T), b.labels, b.B, b.T) }),
    saveModel: (d) => writeFileSync(join(d, 'weights.json'), JSON.stringify(model.namedParameters().map(([n, t]) => [n, Array.from(t.toArray())]))),
  };
}

const cfg = (outDir: string, extra: Partial<TrainConfig> = {}): TrainConfig => ({
  stage: 'pretrain',
  outDir,
  epochs: 3,
  batchSize: 4,
  accumulationSteps: 2,
  lr: 0.05,
  gradClip: 1,
  logInterval: 1,
  saveInterval: 4,
  evalInterval: 3,
  evalBatches: 2,
  seed: 7,
  ...extra,
});

test('trainer: loss falls; checkpoint, model folder, metrics and report are written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-trainer-'));
  const ds = await setup(dir);
  const out = join(dir, 'run');
  const r = await train(cfg(out), task(ds));
  assert.equal(r.steps, 9); // 3 epochs × ceil(6 batches / 2)
  assert.ok(r.finalLoss < r.losses[0] * 0.8, `loss ${r.losses[0]} -> ${r.finalLoss}`);
  assert.ok(existsSync(join(out, 'checkpoints', 'step-00000009', 'state.safetensors')));
  assert.ok(existsSync(join(out, 'model', 'weights.json')));
  const recs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(recs.some((x) => typeof x.eval_loss === 'number'));
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<svg/);
  assert.ok(r.evalLoss !== null && r.evalLoss < r.losses[0]);
  rmSync(dir, { recursive: true });
});

test('trainer: a stopped run resumed with --resume gives the same losses as an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-trainer-'));
  const ds = await setup(dir);
  const full = await train(cfg(join(dir, 'a')), task(ds));
  const part = await train(cfg(join(dir, 'b'), { stopAfterSteps: 4 }), task(ds));
  assert.equal(part.stoppedEarly, true);
  assert.equal(part.steps, 4);
  // a fresh model with other initial weights: everything must come from the checkpoint
  const rest = await train(cfg(join(dir, 'b'), { resume: true }), task(ds, 99));
  assert.equal(rest.steps, 9);
  assert.deepEqual(rest.losses, full.losses);
  const w = (d: string) => readFileSync(join(dir, d, 'model', 'weights.json'), 'utf8');
  assert.equal(w('b'), w('a'));
  await assert.rejects(train(cfg(join(dir, 'b'), { resume: true, batchSize: 3 }), task(ds)), /made with batchSize=4, this run has batchSize=3/);
  await assert.rejects(train(cfg(join(dir, 'c'), { resume: true }), task(ds)), /no complete checkpoint/);
  rmSync(dir, { recursive: true });
});

test('trainer: a non-finite gradient stops the run before the optimizer step, naming the step; nothing is saved', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-trainer-'));
  const ds = await setup(dir);
  const t = task(ds);
  const [, w] = t.params[1];
  // From the third step on, a loss whose value is finite (~1e30) but whose gradient overflows
  // float32 on the way back (1e30 · 1e30), as a diverging run's can.
  const bad: TrainTask = { ...t, step: (b) => (calls++ >= 2 ? { loss: ops.sum(ops.scale(ops.scale(ops.scale(w, 1e-30), 1e30), 1e30)) } : t.step(b)) };
  let calls = 0;
  const out = join(dir, 'run');
  await assert.rejects(train(cfg(out, { accumulationSteps: 1, saveInterval: 1 }), bad), (e: Error) => e instanceof UserError && /gradient norm is Infinity at step 3; the step was not taken.*last good checkpoint: .*step-00000002/.test(e.message));
  assert.equal(JSON.parse(readFileSync(join(out, 'checkpoints', 'latest.json'), 'utf8')).step, 2);
  rmSync(dir, { recursive: true });
});

test('trainer: non-finite weights are never saved; the last good checkpoint stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-trainer-'));
  const ds = await setup(dir);
  const t = task(ds);
  const [, w] = t.params[0];
  let calls = 0;
  // a kernel bug or a hardware fault: the embedding turns Infinity after the third step's forward
  // (its gradient does not depend on its values, so only the save-time check can see it)
  const bad: TrainTask = {
    ...t,
    step: (b) => {
      const r = t.step(b);
      if (++calls === 3) {
        const up = w.backend.upload(Float32Array.from({ length: w.size }, () => Infinity));
        w.backend.copy(w.buf, up, w.size);
        w.backend.free(up);
      }
      return r;
    },
  };
  const out = join(dir, 'run');
  await assert.rejects(train(cfg(out, { accumulationSteps: 1, saveInterval: 1 }), bad), (e: Error) => e instanceof UserError && /weight 'embed_tokens.weight' is not finite after step 3; nothing was saved/.test(e.message));
  assert.equal(JSON.parse(readFileSync(join(out, 'checkpoints', 'latest.json'), 'utf8')).step, 2);
  const saved = JSON.parse(readFileSync(join(out, 'model', 'weights.json'), 'utf8')) as [string, number[]][];
  assert.ok(saved.every(([, v]) => v.every(Number.isFinite)));
  rmSync(dir, { recursive: true });
});

/** MiniMind HEAD's trainer_utils.get_lr, written out: lr·(0.1 + 0.45·(1 + cos(π·current/total))). */
const minimindGetLr = (current: number, total: number, lr: number) => lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * current) / total)));

test('trainer: the lr of every update is MiniMind\'s get_lr at the update\'s last 1-based micro-step (accumulation and epoch-end flush included)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-trainer-'));
  const ds = await setup(dir); // 24 examples: 6 micro-batches of 4 per epoch
  for (const [accum, epochs, microEnds] of [
    [2, 3, [2, 4, 6, 8, 10, 12, 14, 16, 18]], // iters = 6, 3 updates per epoch
    [4, 2, [4, 6, 10, 12]], // the epoch's last 2 micro-batches are flushed as a short update, as MiniMind does
  ] as [number, number, number[]][]) {
    const out = join(dir, `acc${accum}`);
    const r = await train(cfg(out, { accumulationSteps: accum, epochs, evalInterval: 0 }), task(ds));
    assert.equal(r.steps, microEnds.length);
    const lrs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.lr !== undefined).map((x) => x.lr);
    const want = microEnds.map((t) => minimindGetLr(t, epochs * 6, 0.05));
    assert.equal(lrs.length, want.length);
    lrs.forEach((lr, i) => assert.ok(Math.abs(lr - want[i]) <= 1e-15 * want[i], `update ${i + 1}: lr ${lr}, MiniMind ${want[i]}`));
    assert.ok(lrs[0] < 0.05, 'the first update is already below the peak');
    assert.ok(Math.abs(lrs[lrs.length - 1] - 0.005) < 1e-15, 'the last update is exactly the 10% floor');
  }
  rmSync(dir, { recursive: true });
});

test('trainer: reading the losses from the device every few steps gives the same losses, metrics and progress as every step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-trainer-'));
  const ds = await setup(dir);
  const run = async (name: string, hostReadInterval: number) => {
    const progress: [number, number][] = [];
    const r = await train(cfg(join(dir, name), { logInterval: 4, hostReadInterval, onProgress: (p) => progress.push([p.step, p.loss]) }), task(ds));
    const lines = readFileSync(join(dir, name, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
      const { tokens_per_s: _t, elapsed_s: _e, ...rest } = JSON.parse(l);
      return rest;
    });
    return { losses: r.losses, progress, lines };
  };
  const each = await run('a', 1);
  const batched = await run('b', 5); // reads at steps 1, 4 (log + save), 8 (log + save), 9 (end)
  assert.equal(each.losses.length, 9);
  assert.deepEqual(batched, each);
  assert.ok(each.lines.some((l) => typeof l.grad_norm === 'number' && typeof l.loss === 'number'));
  rmSync(dir, { recursive: true });
});

test('trainer: a non-finite gradient found at a later read names its step; it and the steps after it were not applied', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-trainer-'));
  const ds = await setup(dir);
  const t = task(ds);
  const [, w] = t.params[1];
  let calls = 0;
  const bad: TrainTask = { ...t, step: (b) => (calls++ === 2 ? { loss: ops.sum(ops.scale(ops.scale(ops.scale(w, 1e-30), 1e30), 1e30)) } : t.step(b)) };
  // reads after step 1 (first log line) and step 4 (the checkpoint): step 3 is found bad at step 4
  const c = (out: string, extra: Partial<TrainConfig> = {}) => cfg(out, { accumulationSteps: 1, logInterval: 100, saveInterval: 4, hostReadInterval: 10, ...extra });
  await assert.rejects(train(c(join(dir, 'bad')), bad), (e: Error) => e instanceof UserError && /gradient norm is Infinity at step 3; the step was not taken \(nor the 1 after it, before this check\)/.test(e.message));
  assert.ok(!existsSync(join(dir, 'bad', 'checkpoints', 'latest.json')), 'nothing saved');
  // the weights are those after step 2: steps 3 and 4 were skipped on the device
  const good = task(ds);
  await train(c(join(dir, 'good'), { stopAfterSteps: 2 }), good);
  t.params.forEach(([name, p], i) => assert.deepEqual(p.toArray(), good.params[i][1].toArray(), name));
  rmSync(dir, { recursive: true });
});
