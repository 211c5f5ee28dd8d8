// The PyTorch fixtures keep the contract documented in tools/README.md (names, dtypes, shapes,
// config fields), and the parts that need no engine are re-derived here in plain float64 TS:
// the shifted, masked cross-entropy from the stored logits, total = loss + aux, AdamW steps and
// clip_grad_norm_. Catches a regenerated fixture that silently changed its meaning.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSafetensors, toFloat32, toInt32, type HostTensor } from '../../src/formats/safetensors.js';

const FIX = 'test/fixtures';
const VARIANTS = ['v1', 'v1-moe', 'minimind2', 'minimind3', 'minimind3-moe'];

function get(m: Map<string, HostTensor>, name: string): HostTensor {
  const t = m.get(name);
  assert.ok(t, `missing tensor ${name}`);
  return t;
}

function scalar(m: Map<string, HostTensor>, name: string): number {
  const t = get(m, name);
  assert.deepEqual(t.shape, [], `${name} is a scalar`);
  assert.equal(t.dtype, 'F32');
  return (t.data as Float32Array)[0];
}

function closeRel(got: number, want: number, rtol: number, what: string): void {
  assert.ok(Math.abs(got - want) <= rtol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
}

/** Expected parameter names for a config (HF names, lm_head tied so absent). */
function expectedParams(c: Record<string, unknown>): string[] {
  const names = ['model.embed_tokens.weight', 'model.norm.weight'];
  for (let l = 0; l < (c.num_hidden_layers as number); l++) {
    const p = `model.layers.${l}`;
    names.push(`${p}.input_layernorm.weight`, `${p}.post_attention_layernorm.weight`);
    for (const x of ['q', 'k', 'v', 'o']) names.push(`${p}.self_attn.${x}_proj.weight`);
    if (c.qk_norm) names.push(`${p}.self_attn.q_norm.weight`, `${p}.self_attn.k_norm.weight`);
    const ffn = (q: string) => ['gate', 'up', 'down'].map((x) => `${q}.${x}_proj.weight`);
    if (!c.use_moe) names.push(...ffn(`${p}.mlp`));
    else {
      names.push(`${p}.mlp.gate.weight`);
      for (let e = 0; e < (c.n_routed_experts as number); e++) names.push(...ffn(`${p}.mlp.experts.${e}`));
      for (let s = 0; s < (c.n_shared_experts as number); s++) names.push(...ffn(`${p}.mlp.shared_experts.${s}`));
    }
  }
  return names.sort();
}

for (const variant of VARIANTS) {
  test(`model-${variant}.safetensors: documented tensors, config and a loss that matches its logits`, () => {
    const { tensors, metadata } = readSafetensors(`${FIX}/model-${variant}.safetensors`);
    const c = JSON.parse(metadata.config) as Record<string, unknown>;
    assert.equal(c.variant, variant);
    for (const k of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'intermediate_size',
      'vocab_size', 'rms_norm_eps', 'rope_theta', 'max_position_embeddings', 'tie_word_embeddings', 'use_moe', 'qk_norm',
      'rope_interleaved', 'head_dim']) {
      assert.ok(k in c, `config has ${k}`);
    }
    assert.equal(c.rope_interleaved, false);
    assert.equal(c.qk_norm, variant.startsWith('minimind3'));
    assert.equal(c.use_moe, variant.endsWith('moe'));
    if (c.use_moe) {
      assert.equal(c.moe_style, variant === 'v1-moe' ? 'deepseek' : 'qwen3');
      assert.ok(variant === 'v1-moe' ? typeof c.aux_loss_alpha === 'number' : typeof c.router_aux_loss_coef === 'number');
    }
    const d = c.hidden_size as number, V = c.vocab_size as number;
    const params = [...tensors.keys()].filter((k) => k.startsWith('param.')).map((k) => k.slice(6)).sort();
    const grads = [...tensors.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)).sort();
    assert.deepEqual(params, expectedParams(c));
    assert.deepEqual(grads, params);
    for (const p of params) {
      const t = get(tensors, `param.${p}`), g = get(tensors, `grad.${p}`);
      assert.equal(t.dtype, 'F32');
      assert.deepEqual(g.shape, t.shape, `grad.${p} shape`);
    }
    assert.deepEqual(get(tensors, 'param.model.embed_tokens.weight').shape, [V, d]);
    const hd = c.head_dim as number;
    assert.deepEqual(get(tensors, 'param.model.layers.0.self_attn.k_proj.weight').shape, [(c.num_key_value_heads as number) * hd, d]);

    const ids = get(tensors, 'input_ids'), labels = get(tensors, 'labels'), logits = get(tensors, 'logits');
    assert.equal(ids.dtype, 'I32');
    assert.equal(labels.dtype, 'I32');
    assert.deepEqual(ids.shape, [2, 16]);
    assert.deepEqual(labels.shape, [2, 16]);
    assert.deepEqual(logits.shape, [2, 16, V]);
    const greedy = get(tensors, 'greedy_ids');
    assert.equal(greedy.dtype, 'I32');
    assert.deepEqual(greedy.shape, [8]);
    assert.equal(metadata.greedy_prompt_len, '5');

    // loss = mean CE of logits[:, :-1] vs labels[:, 1:] over labels != -100 (HF shift)
    const L = toFloat32(logits), y = toInt32(labels);
    const [B, T] = labels.shape;
    let sum = 0, count = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T - 1; t++) {
        const target = y[b * T + t + 1];
        if (target === -100) continue;
        const row = L.subarray((b * T + t) * V, (b * T + t + 1) * V);
        let mx = -Infinity;
        for (const v of row) mx = Math.max(mx, v);
        let z = 0;
        for (const v of row) z += Math.exp(v - mx);
        sum += mx + Math.log(z) - row[target];
        count++;
      }
    }
    assert.ok(count > 0 && count < B * (T - 1), 'some labels are ignored');
    closeRel(sum / count, scalar(tensors, 'loss'), 1e-6, 'loss from logits');
    const aux = scalar(tensors, 'aux_loss');
    if (c.use_moe) assert.ok(aux > 0, 'MoE fixture has a positive aux loss');
    else assert.equal(aux, 0);
    closeRel(scalar(tensors, 'loss') + aux, scalar(tensors, 'total_loss'), 1e-6, 'total = loss + aux');
    if (c.use_moe) {
      // the router weight only learns through the aux loss (top-1) or both (top-2): its grad must be non-zero
      const gg = toFloat32(get(tensors, 'grad.model.layers.0.mlp.gate.weight'));
      assert.ok(gg.some((v) => v !== 0), 'router gradient present');
    }
  });
}

test('v1-original-expected.safetensors: inputs, logits, greedy ids and fp16 copies', () => {
  const { tensors, metadata } = readSafetensors(`${FIX}/v1-original-expected.safetensors`);
  assert.deepEqual(get(tensors, 'input_ids').shape, [2, 16]);
  assert.deepEqual(get(tensors, 'logits').shape, [2, 16, 256]);
  assert.deepEqual(get(tensors, 'greedy_ids').shape, [8]);
  assert.equal(get(tensors, 'pth.layers.0.attention.wq.weight').dtype, 'F16');
  assert.equal(JSON.parse(metadata.config).rope_theta, 10000);
});

test('adamw.safetensors: re-running AdamW (float64) and clip_grad_norm_ reproduces every stored step', () => {
  const { tensors, metadata } = readSafetensors(`${FIX}/adamw.safetensors`);
  const hp = JSON.parse(metadata.hparams) as { lr: number; betas: [number, number]; eps: number; weight_decay: number; steps: number; shapes: number[][]; max_norm: number };
  const [b1, b2] = hp.betas;
  assert.equal(hp.steps, 6);
  for (let i = 0; i < hp.shapes.length; i++) {
    const init = get(tensors, `p${i}.init`);
    assert.deepEqual(init.shape, hp.shapes[i]);
    const p = Float64Array.from(toFloat32(init));
    const m = new Float64Array(p.length), v = new Float64Array(p.length);
    for (let s = 1; s <= hp.steps; s++) {
      const lr = scalar(tensors, `lr${s}`);
      closeRel(lr, hp.lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * s) / hp.steps))), 1e-6, `lr${s}`);
      const g = toFloat32(get(tensors, `p${i}.grad${s}`));
      const lrExact = hp.lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * s) / hp.steps)));
      const bc1 = 1 - b1 ** s, bc2 = 1 - b2 ** s;
      for (let j = 0; j < p.length; j++) {
        p[j] *= 1 - lrExact * hp.weight_decay;
        m[j] = b1 * m[j] + (1 - b1) * g[j];
        v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
        p[j] -= (lrExact / bc1) * m[j] / (Math.sqrt(v[j]) / Math.sqrt(bc2) + hp.eps);
      }
      const after = toFloat32(get(tensors, `p${i}.after${s}`));
      for (let j = 0; j < p.length; j++) closeRel(after[j], p[j], 1e-6, `p${i}.after${s}[${j}]`);
    }
  }
  for (const prefix of ['clip', 'clipnone']) {
    let sq = 0;
    const gs = hp.shapes.map((_, i) => toFloat32(get(tensors, `${prefix}.g${i}`)));
    for (const g of gs) for (const x of g) sq += x * x;
    const total = Math.sqrt(sq);
    closeRel(scalar(tensors, `${prefix}.total_norm`), total, 1e-6, `${prefix}.total_norm`);
    const coef = Math.min(1, hp.max_norm / (total + 1e-6));
    assert.ok(prefix === 'clip' ? coef < 1 : coef === 1, `${prefix}: clipping ${coef < 1 ? 'applies' : 'does not apply'}`);
    gs.forEach((g, i) => {
      const c = toFloat32(get(tensors, `${prefix}.g${i}.clipped`));
      for (let j = 0; j < g.length; j++) closeRel(c[j], g[j] * coef, 1e-6, `${prefix}.g${i}.clipped[${j}]`);
    });
  }
});
