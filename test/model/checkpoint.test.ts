// Gradient checkpointing (nn/checkpoint.ts) and the chunked LM head + cross-entropy
// (nn/linear-cross-entropy.ts): the same loss and gradients as the plain run. Checkpointing
// recomputes each layer with the same kernels on the same inputs, so every gradient is equal bit
// for bit; the chunked head sums the head weight's gradient chunk by chunk, so that one is equal up
// to float32 rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';
import { Rng } from '../../src/core/random.js';
import * as ops from '../../src/ops/index.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { applyLora } from '../../src/train/lora-adapter.js';
import { linearCrossEntropy } from '../../src/nn/linear-cross-entropy.js';
import { relErr } from './helpers.js';

const VOCAB = 97;
const B = 2;
const T = 12;

function batch(seed: number): { ids: Int32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * VOCAB));
  const labels = Int32Array.from(ids);
  labels[0] = -100; // an ignored target, as SFT's prompt tokens
  labels[T + 3] = -100;
  return { ids, labels };
}

interface Run {
  loss: number;
  grads: Map<string, Float32Array>;
}

function lossAndGrads(model: MiniMindForCausalLM, params: [string, Tensor][], seed: number, lossMask?: Float32Array): Run {
  for (const [, p] of params) p.zeroGrad();
  const { ids, labels } = batch(seed);
  const loss = scope(() => {
    const r = model.loss(tensor(ids, [B, T], 'int32'), labels, { lossMask });
    r.loss.backward();
    return r.loss.item();
  });
  const grads = new Map<string, Float32Array>();
  for (const [n, p] of params) grads.set(n, Float32Array.from(p.grad!.toArray() as Float32Array));
  return { loss, grads };
}

function assertSame(plain: Run, ckpt: Run, what: string): void {
  assert.equal(ckpt.loss, plain.loss, `${what}: loss`);
  for (const [n, g] of plain.grads) assert.deepEqual(ckpt.grads.get(n), g, `${what}: gradient of ${n}`);
}

for (const preset of ['tiny', 'tiny-3', 'tiny-moe', 'tiny-3-moe']) {
  test(`gradient checkpointing: loss and every gradient equal the plain run's, bit for bit (${preset})`, () => {
    const model = new MiniMindForCausalLM(presetConfig(preset, { vocab_size: VOCAB }), { seed: 5 });
    const params = model.namedParameters();
    const mask = Float32Array.from({ length: B * T }, (_, i) => (i % 5 === 0 ? 0 : 1));
    for (const lossMask of [undefined, mask]) {
      const plain = lossAndGrads(model, params, 1, lossMask);
      model.gradientCheckpointing = true;
      const ckpt = lossAndGrads(model, params, 1, lossMask);
      model.gradientCheckpointing = false;
      assertSame(plain, ckpt, `${preset}${lossMask ? ' with a loss mask' : ''}`);
      // a second step reuses the kept gradient buffers the same way
      assertSame(lossAndGrads(model, params, 2, lossMask), (model.gradientCheckpointing = true, lossAndGrads(model, params, 2, lossMask)), `${preset}, second step`);
      model.gradientCheckpointing = false;
    }
  });
}

test('gradient checkpointing: LoRA adapters (the only trainable tensors, outside the module tree) get the plain run\'s gradients', () => {
  const model = new MiniMindForCausalLM(presetConfig('tiny', { vocab_size: VOCAB }), { seed: 6 });
  const layers = applyLora(model, { rank: 4, alpha: 8, targets: 'all' }, 3);
  // B starts at zero (no gradient reaches A): give it values so both matrices get gradients
  const rng = new Rng(9);
  for (const l of layers) {
    const b = tensor(Float32Array.from({ length: l.B.size }, () => rng.normal() * 0.1), l.B.shape);
    l.B.backend.copy(l.B.buf, b.buf, l.B.size);
  }
  const params = layers.flatMap((l): [string, Tensor][] => [[`${l.name}.A`, l.A], [`${l.name}.B`, l.B]]);
  const plain = lossAndGrads(model, params, 3);
  model.gradientCheckpointing = true;
  const ckpt = lossAndGrads(model, params, 3);
  assertSame(plain, ckpt, 'LoRA');
  assert.ok([...plain.grads.values()].every((g) => g.some((v) => v !== 0)), 'every adapter matrix has a gradient');
});

test('gradient checkpointing changes nothing without autograd (inference, eval)', () => {
  const model = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: VOCAB }), { seed: 7 });
  const { ids, labels } = batch(4);
  const run = () => noGrad(() => scope(() => model.loss(tensor(ids, [B, T], 'int32'), labels).loss.item()));
  const plain = run();
  model.gradientCheckpointing = true;
  assert.equal(run(), plain);
});

test('linearCrossEntropy in row chunks: loss and gradients of x and the head weight as crossEntropy on full logits', () => {
  const rng = new Rng(11);
  const N = 23;
  const d = 16;
  const V = 41;
  const xs = Float32Array.from({ length: N * d }, () => rng.normal());
  const ws = Float32Array.from({ length: V * d }, () => rng.normal() * 0.3);
  const targets = Int32Array.from({ length: N }, (_, i) => (i % 7 === 3 ? -100 : Math.floor(rng.next() * V)));
  const mask = Float32Array.from({ length: N }, () => rng.next());
  for (const lossMask of [undefined, mask]) {
    const run = (chunkRows: number | null) =>
      scope(() => {
        const x = tensor(xs, [N, d]);
        const w = tensor(ws, [V, d]);
        x.requiresGrad = true;
        w.requiresGrad = true;
        const loss = chunkRows === null
          ? ops.crossEntropy(ops.linear(x, w), tensor(targets, [N], 'int32'), { mask: lossMask, targetsHost: targets })
          : linearCrossEntropy(x, w, targets, { mask: lossMask, chunkRows });
        loss.backward();
        const out = { loss: loss.item(), dx: Float32Array.from(x.grad!.toArray() as Float32Array), dw: Float32Array.from(w.grad!.toArray() as Float32Array) };
        x.disposeGrad();
        w.disposeGrad();
        return out;
      });
    const full = run(null);
    for (const rows of [5, 8, N, 100]) {
      const c = run(rows);
      assert.ok(Math.abs(c.loss - full.loss) <= 1e-6 * Math.abs(full.loss), `chunk ${rows}: loss ${c.loss} vs ${full.loss}`);
      assert.ok(relErr(c.dx, full.dx) < 1e-6, `chunk ${rows}: dx rel err ${relErr(c.dx, full.dx)}`);
      assert.ok(relErr(c.dw, full.dw) < 1e-6, `chunk ${rows}: dw rel err ${relErr(c.dw, full.dw)}`);
    }
  }
});
