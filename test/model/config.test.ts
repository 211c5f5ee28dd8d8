// Presets and config validation: every released size has the shapes of docs/minimind.md 1.3 and
// MiniMind's parameter counts, instantiated models agree with the formula, and bad configs and
// unknown preset names get clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countParameters, validateConfig, ffnSizeV1, ffnSizeV3, configFromDict, type MiniMindConfig } from '../../src/model/config.js';
import { presetConfig, presetNames } from '../../src/model/presets.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';

// docs/minimind.md 1.3: d, layers, q heads, kv heads, head_dim, FFN, params (total / active) in millions
const RELEASED: [string, number, number, number, number, number, number, number, number][] = [
  ['v1-small', 512, 8, 16, 8, 32, 1408, 26.88, 26.88],
  ['v1', 768, 16, 16, 8, 48, 2048, 108.75, 108.75],
  ['v1-moe', 512, 8, 16, 8, 32, 1408, 96.10, 61.50],
  ['minimind2-small', 512, 8, 8, 2, 64, 1408, 25.83, 25.83],
  ['minimind2', 768, 16, 8, 2, 96, 2048, 104.03, 104.03],
  ['minimind2-moe', 640, 8, 8, 2, 80, 1728, 145.03, 91.95],
  ['minimind-3', 768, 8, 8, 4, 96, 2432, 63.91, 63.91],
  ['minimind-3-moe', 768, 8, 8, 4, 96, 2432, 198.42, 63.94],
];

test('released presets have the spec shapes and parameter counts', () => {
  for (const [name, d, L, H, KV, hd, F, total, active] of RELEASED) {
    const c = presetConfig(name);
    assert.deepEqual([c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads, c.head_dim, c.intermediate_size], [d, L, H, KV, hd, F], name);
    const n = countParameters(c);
    assert.equal(Math.round(n.total / 1e4) / 100, total, `${name} total ${n.total}`);
    assert.equal(Math.round(n.active / 1e4) / 100, active, `${name} active ${n.active}`);
    assert.equal(c.vocab_size, 6400);
    assert.equal(c.tie_word_embeddings, true);
  }
  assert.equal(presetConfig('v1').rope_theta, 1e4);
  assert.equal(presetConfig('minimind2').rope_theta, 1e6);
  assert.equal(presetConfig('minimind-3').rms_norm_eps, 1e-6);
  assert.equal(presetConfig('minimind-3').qk_norm, true);
  assert.equal(presetConfig('minimind-3-moe').moe_style, 'qwen3');
  assert.equal(presetConfig('minimind-3-moe').num_experts_per_tok, 1);
  assert.equal(presetConfig('v1-moe').n_shared_experts, 1);
  assert.equal(presetConfig('minimind2-moe').num_experts_per_tok, 2);
});

test('an instantiated model has exactly the counted parameters (and a released one matches the spec)', () => {
  for (const name of ['tiny', 'tiny-moe', 'tiny-3', 'tiny-3-moe']) {
    for (const tie of [true, false]) {
      const c = presetConfig(name, { tie_word_embeddings: tie, vocab_size: 300 });
      const m = new MiniMindForCausalLM(c, { seed: 1 });
      assert.equal(m.numParameters(), countParameters(c).total, `${name} tie=${tie}`);
      m.dispose();
    }
  }
  const m = new MiniMindForCausalLM(presetConfig('minimind2-small'));
  assert.equal(Math.round(m.numParameters() / 1e4) / 100, 25.83);
  m.dispose();
});

test('FFN width formulas of each era', () => {
  assert.equal(ffnSizeV1(512), 1408);
  assert.equal(ffnSizeV1(768), 2048);
  assert.equal(ffnSizeV1(640), 1728);
  assert.equal(ffnSizeV3(768), 2432);
});

test('free sizes: derived widths follow the era', () => {
  const c = presetConfig('minimind-3', { hidden_size: 256, num_hidden_layers: 4 });
  assert.equal(c.head_dim, 32);
  assert.equal(c.intermediate_size, ffnSizeV3(256));
  assert.equal(presetConfig('minimind2', { hidden_size: 256, qk_norm: true }).intermediate_size, ffnSizeV1(256), 'era formula, not the qk_norm flag');
  const c2 = presetConfig('minimind2', { hidden_size: 256, intermediate_size: 500 });
  assert.equal(c2.intermediate_size, 500);
});

test('unknown preset names list the known ones', () => {
  assert.throws(() => presetConfig('minimind-9'), (e: Error) => {
    assert.match(e.message, /unknown model preset 'minimind-9'/);
    for (const n of presetNames()) assert.ok(e.message.includes(n), n);
    return true;
  });
});

test('invalid configs get one error listing every problem', () => {
  const bad = { ...presetConfig('tiny'), num_attention_heads: 6, num_key_value_heads: 4, head_dim: 7, vocab_size: 0 } as MiniMindConfig;
  assert.throws(() => validateConfig(bad), (e: Error) => {
    assert.match(e.message, /num_attention_heads \(6\) must be a multiple of num_key_value_heads \(4\)/);
    assert.match(e.message, /head_dim must be even/);
    assert.match(e.message, /vocab_size must be a positive integer/);
    return true;
  });
  assert.throws(() => presetConfig('tiny-moe', { num_experts_per_tok: 9 }), /num_experts_per_tok \(9\) exceeds n_routed_experts \(4\)/);
  assert.throws(() => configFromDict({ num_hidden_layers: 2 }), /hidden_size is missing/);
  assert.throws(() => new MiniMindForCausalLM({ ...presetConfig('tiny'), rms_norm_eps: -1 }), /rms_norm_eps must be a positive number/);
});
