// MiniMindForCausalLM behaviour beyond the PyTorch fixtures: lastOnly, KV-cache contract and
// errors, YaRN / linear RoPE scaling tables, memory staying flat across scoped steps, training
// actually reducing the loss (dense and both MoE styles), seeded init.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, noGrad, scope, tensor } from '../../src/core/index.js';
import { AdamW } from '../../src/optim/index.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { modelRopeTables } from '../../src/model/rope-tables.js';
import { relErr } from './helpers.js';

const ids = Int32Array.from([5, 9, 1, 33, 17, 2, 40, 8, 3, 12, 60, 7, 21, 30, 4, 11]);

test('lastOnly gives the last row of the full logits, shape (B, 1, V)', () => {
  const m = new MiniMindForCausalLM(presetConfig('tiny-3-moe', { vocab_size: 64 }), { seed: 1 });
  m.eval();
  noGrad(() => scope(() => {
    const full = m.forward(tensor(ids, [2, 8], 'int32')).logits;
    const last = m.forward(tensor(ids, [2, 8], 'int32'), { lastOnly: true }).logits;
    assert.deepEqual(last.shape, [2, 1, 64]);
    const f = full.toArray();
    const l = last.toArray();
    for (let b = 0; b < 2; b++) assert.ok(relErr(l.subarray(b * 64, (b + 1) * 64), f.subarray((b * 8 + 7) * 64, (b * 8 + 8) * 64)) < 1e-6);
  }));
  m.dispose();
});

test('KV cache: decoding runs without autograd, checks batch/config/length, truncates and grows', () => {
  const m = new MiniMindForCausalLM(presetConfig('tiny', { vocab_size: 64, max_position_embeddings: 10 }), { seed: 2 });
  const other = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: 64, num_hidden_layers: 3 }), { seed: 2 });
  scope(() => {
    const cache = m.newCache(1, 2);
    const r = m.forward(tensor(ids.slice(0, 6), [1, 6], 'int32'), { cache });
    assert.equal(r.logits.requiresGrad, false, 'no autograd through the cache');
    assert.equal(cache.length, 6);
    assert.ok(cache.capacity >= 6);
    assert.throws(() => m.forward(tensor(ids.slice(0, 8), [2, 4], 'int32'), { cache }), /batch 2 does not match the KV cache's batch 1/);
    assert.throws(() => m.forward(tensor(ids.slice(0, 5), [1, 5], 'int32'), { cache }), /11 positions exceed max_position_embeddings \(10\)/);
    assert.throws(() => other.forward(tensor([1], [1, 1], 'int32'), { cache }), /made for another model configuration/);
    // truncate to 3 and re-feed: same logits as a fresh prefill of those positions
    cache.truncate(3);
    const again = m.forward(tensor(ids.slice(3, 6), [1, 3], 'int32'), { cache }).logits.toArray();
    m.eval();
    const fresh = noGrad(() => m.forward(tensor(ids.slice(0, 6), [1, 6], 'int32')).logits.toArray());
    assert.ok(relErr(again, fresh.subarray(3 * 64)) < 1e-6);
    assert.throws(() => cache.truncate(9), /cannot truncate to 9/);
    cache.dispose();
  });
  assert.throws(() => m.forward(tensor(ids, [16], 'int32')), /must be an int32 \(B, T\) tensor/);
  m.dispose();
  other.dispose();
});

test('YaRN tables follow MiniMind HEAD (hd 96, theta 1e6: low 8, high 21); linear divides every frequency', () => {
  const base = presetConfig('minimind-3', { max_position_embeddings: 64 });
  const plain = modelRopeTables(base);
  const yarn = modelRopeTables({ ...base, max_position_embeddings: 32768, inference_rope_scaling: true });
  const half = 48;
  const angle = (t: { cos: Float32Array; sin: Float32Array }, p: number, i: number) => Math.atan2(t.sin[p * half + i], t.cos[p * half + i]);
  for (let i = 0; i <= 8; i++) assert.ok(Math.abs(angle(yarn, 1, i) - angle(plain, 1, i)) < 1e-6, `band ${i} unscaled`);
  for (let i = 21; i < half; i++) assert.ok(Math.abs(angle(yarn, 1, i) - angle(plain, 1, i) / 16) < 1e-9, `band ${i} scaled by 1/16`);
  const mid = angle(yarn, 1, 15) / angle(plain, 1, 15); // ramp (15-8)/13 -> 1 - r + r/16
  const r = 7 / 13;
  assert.ok(Math.abs(mid - (1 - r + r / 16)) < 1e-5, `band 15 ratio ${mid}`);
  const lin = modelRopeTables({ ...base, rope_scaling: { type: 'linear', factor: 4, original_max_position_embeddings: 0, beta_fast: 0, beta_slow: 0, attention_factor: 1 } });
  for (const i of [0, 10, 40]) assert.ok(Math.abs(angle(lin, 1, i) - angle(plain, 1, i) / 4) < 1e-7);
});

test('memory is flat across scoped training steps (parameters and grads aside)', () => {
  const m = new MiniMindForCausalLM(presetConfig('tiny-moe', { vocab_size: 64 }), { seed: 3 });
  const be = getBackend();
  const x = Int32Array.from(ids);
  const step = () => scope(() => {
    const { loss } = m.loss(tensor(x, [2, 8], 'int32'), tensor(x, [2, 8], 'int32'));
    loss.backward();
    return loss.item();
  });
  step();
  const before = be.liveBytes();
  for (let i = 0; i < 3; i++) step();
  assert.equal(be.liveBytes(), before);
  m.dispose();
});

for (const name of ['tiny', 'tiny-moe', 'tiny-3', 'tiny-3-moe']) {
  test(`${name}: AdamW steps on a fixed batch reduce the loss; the gate gets gradients`, () => {
    const m = new MiniMindForCausalLM(presetConfig(name, { vocab_size: 64 }), { seed: 4 });
    const opt = new AdamW(m.parameters(), { lr: 3e-3, weightDecay: 0 });
    const x = tensor(ids, [2, 8], 'int32').keep();
    let first = 0;
    let last = 0;
    for (let i = 0; i < 30; i++) {
      last = scope(() => {
        opt.zeroGrad();
        const { loss, auxLoss } = m.loss(x, x);
        if (m.config.use_moe) assert.ok(auxLoss && auxLoss.item() > 0);
        loss.backward();
        opt.step();
        return loss.item();
      });
      if (i === 0) first = last;
    }
    assert.ok(last < first * 0.7, `loss ${first} -> ${last}`);
    if (m.config.use_moe) {
      const g = m.namedParameters().find(([n]) => n === 'model.layers.0.mlp.gate.weight')![1];
      assert.ok(g.grad && Math.max(...Array.from(g.grad.toArray(), Math.abs)) > 0, 'gate gradient');
    }
    x.dispose();
    m.dispose();
  });
}

test('the same seed gives the same weights; v1 init std', () => {
  const c = presetConfig('tiny', { vocab_size: 64, num_hidden_layers: 8 });
  const a = new MiniMindForCausalLM(c, { seed: 7 });
  const b = new MiniMindForCausalLM(c, { seed: 7 });
  const wa = a.model.layers.items[0].self_attn.q_proj.weight.toArray();
  assert.deepEqual(wa, b.model.layers.items[0].self_attn.q_proj.weight.toArray());
  const std = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0) / v.length);
  assert.ok(Math.abs(std(wa) - 0.02) < 0.002);
  assert.ok(Math.abs(std(a.model.layers.items[0].self_attn.o_proj.weight.toArray()) - 0.02 / 4) < 0.001);
  a.dispose();
  b.dispose();
});

test('init: false skips the random draws (zeros, norms at one) for models loaded right after', () => {
  const m = new MiniMindForCausalLM(presetConfig('tiny-moe', { vocab_size: 64 }), { init: false });
  for (const [name, p] of m.namedParameters()) {
    const v = p.toArray();
    const want = name.endsWith('norm.weight') ? 1 : 0;
    assert.ok(v.every((x) => x === want), name);
  }
  m.dispose();
});

test('loss: HF shift, -100 ignored, lossMask (aligned with labels) weights targets like MiniMind loss_mask', () => {
  const m = new MiniMindForCausalLM(presetConfig('tiny', { vocab_size: 64 }), { seed: 9 });
  m.eval();
  noGrad(() => scope(() => {
    const x = tensor(ids, [2, 8], 'int32');
    const labels = Int32Array.from(ids);
    labels[2] = -100;
    labels[9] = -100;
    const a = m.loss(x, tensor(labels, [2, 8], 'int32')).logitsLoss.item();
    const mask = new Float32Array(16).fill(1);
    mask[2] = 0;
    mask[9] = 0;
    const b = m.loss(x, x, { lossMask: mask }).logitsLoss.item();
    assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
    // by hand: mean over t of -log softmax(logits[t])[labels[t+1]]
    const logits = m.forward(x).logits.toArray();
    let s = 0;
    let n = 0;
    for (let bb = 0; bb < 2; bb++) for (let t = 0; t < 7; t++) {
      const y = labels[bb * 8 + t + 1];
      if (y === -100) continue;
      const row = Array.from(logits.subarray((bb * 8 + t) * 64, (bb * 8 + t + 1) * 64));
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((acc, v) => acc + Math.exp(v - mx), 0));
      s += lse - row[y];
      n++;
    }
    assert.ok(Math.abs(a - s / n) < 1e-5, `${a} vs ${s / n}`);
  }));
  m.dispose();
});
