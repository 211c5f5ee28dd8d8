// The ppo stage end to end on a tiny random model: the critic is the model's body plus a value
// head (values have the right shape and start from the policy's weights), a PPO step updates actor
// and critic with their own optimizers (both appear in the checkpoint), value loss and approximate
// KL are logged, and --resume continues a stopped run to the same weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { saveModelFolder, loadModelFolder as loadFolder } from '../../src/formats/hf-folder.js';
const loadModelFolder = (dir: string) => loadFolder(dir).model;
import { ppo } from '../../src/train/ppo.js';
import { Critic } from '../../src/train/rl/critic.js';
import { readSafetensors } from '../../src/formats/safetensors.js';
import { tensor } from '../../src/core/tensor.js';
import { noGrad } from '../../src/core/autograd.js';
import type { RewardFunction } from '../../src/train/rl/reward-fns.js';
import type { RlPrompt } from '../../src/data/rl.js';

const TOK = '../shared/data/minimind-tokenizer/head';
const skip = existsSync(TOK) ? false : `${TOK} not found (shared data absent)`;
const prompts: RlPrompt[] = ['1+1?', 'hello', '2+2?', 'hi there'].map((q, i) => ({ messages: [{ role: 'user', content: q }], source: `p${i}` }));
const evenIds: RewardFunction = { name: 'even', score: (ss) => ss.map((s) => s.completionIds.filter((id) => id % 2 === 0).length / Math.max(1, s.completionIds.length)) };

test('critic: value head on the twice-normalised hidden state, bias folded in', { skip }, () => {
  const tok = Tokenizer.load(TOK);
  const body = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 3 });
  const c = new Critic(body, 1);
  const ids = tensor(Int32Array.from([5, 6, 7, 8, 9, 10]), [2, 3], 'int32');
  noGrad(() => {
    const v = Array.from(c.values(ids).values.toArray());
    assert.equal(v.length, 6);
    // by hand: norm(hidden) . w + b
    const h = body.model.norm.forward(body.hiddenStates(ids).hidden).toArray();
    const w = c.valueHead.toArray();
    for (let i = 0; i < 6; i++) {
      let s = w[32];
      for (let k = 0; k < 32; k++) s += h[i * 32 + k] * w[k];
      assert.ok(Math.abs(s - v[i]) < 1e-5, `value ${i}: ${v[i]} vs ${s}`);
    }
  });
  assert.deepEqual(c.namedParameters().map(([n]) => n).slice(-1), ['value_head']);
});

test('ppo: actor and critic trained, metrics logged, exact resume', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-ppo-'));
  const tok = Tokenizer.load(TOK);
  saveModelFolder(join(dir, 'init'), new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 3 }), { tokenizerDir: TOK });
  const common = { initFrom: join(dir, 'init'), prompts, rewards: [evenIds], maxNewTokens: 5, batchSize: 4, epochs: 3, maxSteps: 3, learningRate: 1e-3, criticLearningRate: 1e-3, thinkingRatio: 0, seed: 4, saveInterval: 100 };
  await ppo({ ...common, out: join(dir, 'full') });
  await ppo({ ...common, out: join(dir, 'part'), stopAfter: 1 });
  await ppo({ ...common, out: join(dir, 'part'), resume: true });
  const a = loadModelFolder(join(dir, 'full', 'model')).namedParameters();
  const b = new Map(loadModelFolder(join(dir, 'part', 'model')).namedParameters());
  const init = new Map(loadModelFolder(join(dir, 'init')).namedParameters());
  let moved = 0;
  for (const [name, t] of a) {
    assert.deepEqual(Array.from(t.toArray()), Array.from(b.get(name)!.toArray()), name);
    if (Array.from(t.toArray()).some((x, i) => x !== init.get(name)!.toArray()[i])) moved++;
  }
  assert.ok(moved > 0, 'the actor was updated');
  const recs = readFileSync(join(dir, 'full', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs.length, 3);
  for (const r of recs) assert.ok(Number.isFinite(r.value_loss) && Number.isFinite(r.approx_kl) && Number.isFinite(r.reward), JSON.stringify(r));
  const ckpt = readSafetensors(join(dir, 'full', 'checkpoints', 'step-00000003', 'state.safetensors')).tensors;
  assert.ok(ckpt.has('critic.value_head') && ckpt.has('optimizer.m.critic.value_head') && ckpt.has('model.embed_tokens.weight'));
});

test('ppo: once the KL early stop fires, updates still run with the loss x 0 (MiniMind: AdamW and the schedule still step)', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-ppo-stop-'));
  const tok = Tokenizer.load(TOK);
  saveModelFolder(join(dir, 'init'), new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 3 }), { tokenizerDir: TOK });
  // a negative threshold fires at the first minibatch: every update of the run has a zero loss
  await ppo({ initFrom: join(dir, 'init'), prompts, rewards: [evenIds], maxNewTokens: 5, batchSize: 4, miniBatchSize: 2, epochs: 2, learningRate: 1e-3, earlyStopKl: -1, thinkingRatio: 0, seed: 4, out: join(dir, "run") });
  const recs = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(recs.map((r) => r.early_stop), [1, 1]);
  assert.deepEqual(recs.map((r) => r.grad_norm), [0, 0], 'zero gradients');
  // 2 steps x 2 minibatches of epoch 0 (epoch 1 never runs): the 4 AdamW steps are in the checkpoint
  const state = JSON.parse(readFileSync(join(dir, 'run', 'checkpoints', 'step-00000002', 'trainer_state.json'), 'utf8'));
  assert.deepEqual(state.adamSteps, [4, 4]);
  // weight decay alone moved the weights: each is w·(1 − lr·0.01) per update
  const init = new Map(loadModelFolder(join(dir, 'init')).namedParameters());
  const [name, w] = loadModelFolder(join(dir, 'run', 'model')).namedParameters()[0];
  const w0 = init.get(name)!.toArray();
  const ratio = w.toArray()[0] / w0[0];
  assert.ok(ratio < 1 && ratio > 1 - 4 * 1e-3 * 0.01 - 1e-7, `${name}[0] scaled by ${ratio}`);
});

test('--ppo-update-iters past its limit is one error before anything loads (once memory grew without bound)', async () => {
  const o = { initFrom: 'not-loaded', prompts, rewards: [evenIds], out: 'not-written' };
  await assert.rejects(ppo({ ...o, ppoUpdateIters: 1e9 }), /^UserError: --ppo-update-iters must be an integer in \[1, 1000\], got 1000000000$/);
  await assert.rejects(ppo({ ...o, miniBatchSize: 0 }), /^UserError: --mini-batch-size must be an integer ≥ 1, got 0$/);
});
