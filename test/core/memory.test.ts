// Memory must not grow across training steps: every intermediate made inside a step's scope is
// freed at its end; only parameters, their gradients and optimizer state live on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import { setBackend } from '../../src/core/device.js';
import { tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { Rng } from '../../src/core/random.js';
import { Linear, RMSNorm } from '../../src/nn/index.js';
import { AdamW } from '../../src/optim/index.js';
import * as ops from '../../src/ops/index.js';

test('live bytes stay flat over training steps run in scopes', () => {
  setBackend(jsBackend);
  const rng = new Rng(0);
  const l1 = new Linear(8, 16, { rng, std: 0.1 });
  const norm = new RMSNorm(16, 1e-5);
  const l2 = new Linear(16, 5, { rng, std: 0.1 });
  const params = [...l1.parameters(), ...norm.parameters(), ...l2.parameters()];
  const opt = new AdamW(params, { lr: 1e-2 });
  const x = tensor(Float32Array.from({ length: 4 * 8 }, () => rng.normal()), [4, 8]).keep();
  const y = tensor(Int32Array.from([0, 1, 2, 3]), [4]).keep();
  const step = () =>
    scope(() => {
      const logits = l2.forward(ops.silu(norm.forward(l1.forward(x))));
      const loss = ops.crossEntropy(logits, y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return loss.item();
    });
  const losses = [step()];
  const after1 = jsBackend.liveBytes();
  for (let i = 0; i < 20; i++) losses.push(step());
  assert.equal(jsBackend.liveBytes(), after1, 'memory grew across steps');
  assert.ok(losses[losses.length - 1] < losses[0], `loss did not fall: ${losses[0]} -> ${losses[losses.length - 1]}`);
  // and a scope that forgets nothing would show it: a tensor created and returned survives
  const kept = scope(() => tensor([1, 2, 3]));
  assert.ok(jsBackend.liveBytes() > after1);
  kept.dispose();
  assert.equal(jsBackend.liveBytes(), after1);
});
