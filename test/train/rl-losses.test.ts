// RL loss arithmetic against references: MiniMind's own loss expressions and TRL 1.13's
// GRPOTrainer._compute_loss, both run with torch autograd on the same tensors
// (test/fixtures/rl-losses.json from tools/gen_rl_fixtures.py): values and per-token gradients.
// Plus hand-computed cases, and the autograd bridge on a real model's log-probs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { clippedValueLoss, gae, groupAdvantages, grpoLoss, k3Kl, ppoPolicyLoss, whitenAdvantages } from '../../src/train/rl/losses.js';
import { hostLoss } from '../../src/train/rl/policy-loss.js';
import { tensor } from '../../src/core/tensor.js';
import * as ops from '../../src/ops/index.js';
import { jsBackend } from '../../src/backends/js/index.js';

const fx = JSON.parse(readFileSync('test/fixtures/rl-losses.json', 'utf8'));
const batch = { R: fx.R, T: fx.T, logp: fx.logp, oldLogp: fx.old, refLogp: fx.ref, mask: fx.mask };

function near(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('group advantages: population std, eps 1e-4 (MiniMind); hand case', () => {
  near(groupAdvantages(fx.rewards, fx.G), fx.advantages, 1e-12, 'advantages');
  // rewards (1, 3): mean 2, std 1 -> (-1, 1)/(1 + 1e-4); a constant group gives 0
  near(groupAdvantages([1, 3, 5, 5], 2), [-1 / 1.0001, 1 / 1.0001, 0, 0], 1e-12, 'hand');
  assert.throws(() => groupAdvantages([1, 2, 3], 2), /groups of 2/);
});

test('k3 KL: hand values', () => {
  assert.equal(k3Kl(-1, -1), 0);
  near([k3Kl(-1, -2)], [Math.E - 1 - 1], 1e-15, 'k3');
  near([k3Kl(-2, -1)], [Math.exp(-1) + 1 - 1], 1e-15, 'k3');
});

test('GRPO loss and gradient = MiniMind = TRL (loss_type grpo, ε 0.2, β 0.1)', () => {
  const r = grpoLoss(batch, fx.advantages, { loss: 'grpo', beta: 0.1 });
  near([r.loss], [fx.minimind_grpo.loss], 1e-12, 'loss vs MiniMind');
  near([r.loss], [fx.trl_grpo.loss], 1e-12, 'loss vs TRL');
  near(r.grad, fx.minimind_grpo.grad, 1e-10, 'grad vs MiniMind');
  near(r.grad, fx.trl_grpo.grad, 1e-10, 'grad vs TRL');
  near([r.stats.kl], [fx.trl_grpo.metrics.kl], 1e-12, 'kl metric vs TRL');
  near([r.stats.clipFraction], [fx.trl_grpo.metrics['clip_ratio/region_mean']], 1e-12, 'clip fraction vs TRL');
});

test('CISPO loss and gradient = MiniMind; per-token loss = TRL (loss_type cispo, ε_high 5)', () => {
  const r = grpoLoss(batch, fx.advantages, { loss: 'cispo', beta: 0.1 });
  near([r.loss], [fx.minimind_cispo.loss], 1e-12, 'loss vs MiniMind');
  near(r.grad, fx.minimind_cispo.grad, 1e-10, 'grad vs MiniMind');
  near(r.perToken, fx.minimind_cispo.per_token, 1e-12, 'per-token');
  // TRL normalises CISPO by the batch's token count instead of per sequence.
  let s = 0;
  let n = 0;
  for (let i = 0; i < r.perToken.length; i++) {
    s += r.perToken[i] * fx.mask[i];
    n += fx.mask[i];
  }
  near([s / n], [fx.trl_cispo.loss], 1e-12, 'token-mean loss vs TRL');
});

test('agent RL leaves rows without trained tokens out of the mean', () => {
  const all = grpoLoss(batch, fx.advantages, { loss: 'cispo', beta: 0.1 });
  const skip = grpoLoss(batch, fx.advantages, { loss: 'cispo', beta: 0.1, skipEmptyRows: true });
  near([skip.loss], [(all.loss * fx.R) / (fx.R - 1)], 1e-12, 'one empty row');
});

test('PPO: GAE, whitening, clipped policy loss, approx KL and clipped value loss = MiniMind train_ppo.py', () => {
  const p = fx.ppo;
  const { advantages, returns } = gae(p.token_rewards, p.values_raw, p.mask, fx.R, fx.T, p.gamma, p.lam);
  near(advantages, p.gae_advantages, 1e-12, 'gae');
  near(returns, p.returns, 1e-12, 'returns');
  const white = whitenAdvantages(advantages, p.mask);
  near(white, p.advantages, 1e-10, 'whitened');
  const pl = ppoPolicyLoss({ ...batch, mask: p.mask }, p.advantages, p.clip_epsilon, p.kl_coef);
  near([pl.loss], [p.policy_loss], 1e-12, 'policy loss');
  near(pl.grad, p.policy_grad, 1e-10, 'policy grad');
  near([pl.approxKl], [p.approx_kl], 1e-12, 'approx kl');
  const vl = clippedValueLoss(p.values, p.old_values, p.returns, p.mask, p.cliprange_value);
  near([vl.loss], [p.value_loss], 1e-12, 'value loss');
  near(vl.grad, p.value_grad, 1e-10, 'value grad');
});

test('GAE by hand: γ=1, λ=0.5, reward 1 on the last of 2 tokens', () => {
  // V = (0.5, 0.25): δ1 = 1 − 0.25 = 0.75; δ0 = 0 + 0.25 − 0.5 = −0.25; A0 = −0.25 + 0.5·0.75 = 0.125
  const { advantages, returns } = gae([0, 1, 0], [0.5, 0.25, 9], [1, 1, 0], 1, 3, 1, 0.5);
  near(advantages, [0.125, 0.75, 0], 1e-15, 'A');
  near(returns, [0.625, 1, 0], 1e-15, 'R');
});

test('hostLoss: the loss gradient reaches the log-probs through autograd', () => {
  // logp = log_softmax(logits)[target]; d loss/d logits = Σ_t g_t (onehot − softmax)
  const logits = tensor([0.1, 0.5, -0.3, 1.0, 0.2, 0.0], [1, 2, 3], 'float64', jsBackend);
  logits.requiresGrad = true;
  const lp = ops.logprobGather(logits, tensor([2, 0], [1, 2], 'int32', jsBackend));
  const g = [0.7, -1.3];
  const { loss } = hostLoss(lp, (v) => ({ loss: v[0] * g[0] + v[1] * g[1], grad: g }));
  loss.backward();
  const host = Array.from(logits.grad!.toArray() as Float64Array);
  const expect: number[] = [];
  const rows = [[0.1, 0.5, -0.3], [1.0, 0.2, 0.0]];
  [2, 0].forEach((t, r) => {
    const z = rows[r].reduce((s, x) => s + Math.exp(x), 0);
    rows[r].forEach((x, v) => expect.push(g[r] * ((v === t ? 1 : 0) - Math.exp(x) / z)));
  });
  near(host, expect, 1e-12, 'dlogits');
});
