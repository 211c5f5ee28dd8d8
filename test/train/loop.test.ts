// The one step loop (train/loop.ts) with an RL stage (rl/stage.ts's plan and per-update schedule)
// on a one-parameter "policy": what the RL stages gained from the supervised loop — the non-finite
// guard (the update with a non-finite gradient is not taken, the run stops with a UserError
// naming the step, the last good checkpoint stays), progress through onProgress with every step's
// logs, and several updates a step (PPO's minibatches) each on the schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import { UserError } from '../../src/core/errors.js';
import * as ops from '../../src/ops/index.js';
import { cosineLr } from '../../src/optim/index.js';
import { runStage, type LoopConfig } from '../../src/train/loop.js';
import type { StepReport } from '../../src/train/run-log.js';
import { rlStage } from '../../src/train/rl/stage.js';

const cfg = (outDir: string, extra: Partial<LoopConfig> = {}): LoopConfig => ({ stage: 'grpo', outDir, epochs: 1, lr: 0.1, weightDecay: 0, gradClip: 1, logInterval: 1, saveInterval: 1, seed: 1, ...extra });

function param(): Tensor {
  const p = tensor(new Float32Array([1, 2, 3]), [3]);
  p.requiresGrad = true;
  return p;
}

test('RL stage: a non-finite gradient is not applied and stops the run naming the step; progress goes to onProgress', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-loop-'));
  try {
    const p = param();
    const reports: StepReport[] = [];
    let saved = '';
    const run = runStage(cfg(dir, { onProgress: (r) => reports.push(r) }), async () =>
      rlStage({ prompts: 8, batchSize: 2, seed: 1, learningRate: 0.1 }, {
        params: [['p', p]],
        saveModel: () => void (saved = Array.from(p.toArray()).join(',')),
        step: (_indices, { step }) => {
          // step 3 (1-based): a finite loss whose gradient overflows float32, as a diverging run's can
          const x = step === 2 ? ops.scale(ops.scale(ops.scale(p, 1e-30), 1e30), 1e30) : p;
          ops.sum(ops.mul(x, x)).backward();
          return { logs: { loss: step, reward: 0.5 }, tokens: 4 };
        },
      }),
    );
    await assert.rejects(run, (e: Error) => e instanceof UserError && /^grpo: the gradient norm is Infinity at step 3; the step was not taken.*last good checkpoint: .*step-00000002/.test(e.message));
    assert.deepEqual(reports.map((r) => [r.step, r.loss, r.logs.reward, r.tokens]), [[1, 0, 0.5, 4], [2, 1, 0.5, 4]]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'checkpoints', 'latest.json'), 'utf8')).step, 2);
    assert.equal(Array.from(p.toArray()).join(','), saved, 'the weights are those of step 2: the bad update was skipped on the device');
    // a stage's own non-finite loss (RL computes it on the host) stops the run too
    const q = param();
    const nan = runStage(cfg(join(dir, 'nan')), async () =>
      rlStage({ prompts: 8, batchSize: 2, seed: 1, learningRate: 0.1 }, {
        params: [['p', q]],
        saveModel: () => {},
        step: (_i, { step }) => {
          ops.sum(q).backward();
          return { logs: { loss: step === 1 ? NaN : 1 }, tokens: 1 };
        },
      }),
    );
    await assert.rejects(nan, (e: Error) => e instanceof UserError && /^grpo: loss is NaN at step 2/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RL stage: several updates a step (PPO minibatches) each take the next lr of the per-update cosine schedule, across a resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-loop-'));
  try {
    const lrs: number[] = [];
    const stage = (p: Tensor) =>
      rlStage({ prompts: 6, batchSize: 2, seed: 3, learningRate: 0.1 }, {
        params: [['p', p]],
        updatesPerStep: 2,
        saveModel: () => {},
        step: async (_i, { update }) => {
          for (let k = 0; k < 2; k++) {
            ops.sum(ops.mul(p, p)).backward();
            lrs.push((await update()).lr);
          }
          return { logs: { loss: 1 }, tokens: 1 };
        },
      });
    await runStage(cfg(join(dir, 'a'), { stopAfterSteps: 2 }), async () => stage(param()));
    await runStage(cfg(join(dir, 'a'), { resume: true }), async () => stage(param()));
    // 3 steps x 2 updates; MiniMind's CosineAnnealingLR(T_max = 6) read before each scheduler.step()
    assert.deepEqual(lrs, [0, 1, 2, 3, 4, 5].map((u) => cosineLr(u, { lr: 0.1, totalSteps: 6, minRatio: 0.1 })));
    const state = JSON.parse(readFileSync(join(dir, 'a', 'checkpoints', 'step-00000003', 'trainer_state.json'), 'utf8'));
    assert.deepEqual([state.step, state.adamSteps], [3, [6]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
