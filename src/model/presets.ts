// Named configurations: every released MiniMind size (docs/minimind.md 1.3) and tiny sizes for tests.
// Released sizes keep MiniMind's shapes exactly, so their parameter counts match the README
// (test/model/config.test.ts checks them). All presets use the rotate-half RoPE layout; the
// v1 / m2-legacy .pth importer permutes q/k rows into it.
import { completeConfig, ffnSizeV1, ffnSizeV3, validateConfig, type MiniMindConfig } from './config.js';

type Preset = Partial<MiniMindConfig> & Pick<MiniMindConfig, 'hidden_size'>;

// v1 (model/LMConfig.py@a87f628): 16q/8kv, theta 1e4 (precompute_pos_cis default), eps 1e-5. The
// RoPE table length was max_seq_len (512 to train, 1024 in the eval scripts): 1024 here.
const V1: Partial<MiniMindConfig> = {
  num_attention_heads: 16, num_key_value_heads: 8, rope_theta: 1e4, rms_norm_eps: 1e-5, max_position_embeddings: 1024,
  qk_norm: false, moe_style: 'deepseek', num_experts_per_tok: 2, n_routed_experts: 4, n_shared_experts: 1, aux_loss_alpha: 0.01,
};
// MiniMind2 (model/model_minimind.py@561979c): 8q/2kv, theta 1e6, eps 1e-5, 32768 positions.
const M2: Partial<MiniMindConfig> = {
  num_attention_heads: 8, num_key_value_heads: 2, rope_theta: 1e6, rms_norm_eps: 1e-5, max_position_embeddings: 32768,
  qk_norm: false, moe_style: 'deepseek', num_experts_per_tok: 2, n_routed_experts: 4, n_shared_experts: 1, aux_loss_alpha: 0.1,
};
// minimind-3 (model/model_minimind.py@HEAD): 8q/4kv, QK-norm, eps 1e-6, FFN ceil(pi d/64)*64, top-1 MoE.
const M3: Partial<MiniMindConfig> = {
  num_attention_heads: 8, num_key_value_heads: 4, rope_theta: 1e6, rms_norm_eps: 1e-6, max_position_embeddings: 32768,
  qk_norm: true, moe_style: 'qwen3', num_experts_per_tok: 1, n_routed_experts: 4, n_shared_experts: 0, router_aux_loss_coef: 5e-4,
};

const PRESETS: Record<string, Preset> = {
  'v1-small': { ...V1, hidden_size: 512, num_hidden_layers: 8 },
  'v1': { ...V1, hidden_size: 768, num_hidden_layers: 16 },
  'v1-moe': { ...V1, hidden_size: 512, num_hidden_layers: 8, use_moe: true },
  'minimind2-small': { ...M2, hidden_size: 512, num_hidden_layers: 8 },
  'minimind2': { ...M2, hidden_size: 768, num_hidden_layers: 16 },
  'minimind2-moe': { ...M2, hidden_size: 640, num_hidden_layers: 8, use_moe: true },
  'minimind-3': { ...M3, hidden_size: 768, num_hidden_layers: 8 },
  'minimind-3-moe': { ...M3, hidden_size: 768, num_hidden_layers: 8, use_moe: true },
  // Tiny models for tests and the quickstart (MiniMind's 6400-token vocabulary; override vocab_size freely).
  'tiny': { ...M2, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512 },
  'tiny-moe': { ...M2, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512, use_moe: true, intermediate_size: 128 },
  'tiny-3': { ...M3, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512 },
  'tiny-3-moe': { ...M3, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512, use_moe: true, intermediate_size: 128 },
};

// Accepted spellings of the released names.
const ALIASES: Record<string, string> = {
  'minimind-v1-small': 'v1-small', 'minimind-v1': 'v1', 'minimind-v1-moe': 'v1-moe',
  'minimind2-small': 'minimind2-small', 'minimind3': 'minimind-3', 'minimind3-moe': 'minimind-3-moe',
  'minimind-2': 'minimind2', 'minimind-2-small': 'minimind2-small', 'minimind-2-moe': 'minimind2-moe',
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/**
 * The config of a named preset with optional overrides. Free sizes: override hidden_size and the
 * FFN width follows the era's formula unless intermediate_size is given too; head_dim follows
 * hidden_size / num_attention_heads unless given.
 */
export function presetConfig(name: string, overrides: Partial<MiniMindConfig> = {}): MiniMindConfig {
  const key = PRESETS[name] ? name : ALIASES[name];
  const p = key ? PRESETS[key] : undefined;
  if (!p) throw new Error(`unknown model preset '${name}'; known presets: ${presetNames().join(', ')}`);
  const merged: Preset = { ...p, ...overrides };
  // Derived sizes are recomputed from the (possibly overridden) hidden size / heads unless set explicitly.
  // The FFN formula is the preset's era's (minimind-3: ceil(pi d/64)*64; v1/MiniMind2: 64*ceil(int(8d/3)/64)),
  // even when an override toggles qk_norm.
  if (overrides.intermediate_size === undefined && p.intermediate_size === undefined) {
    merged.intermediate_size = p.qk_norm ? ffnSizeV3(merged.hidden_size) : ffnSizeV1(merged.hidden_size);
  }
  if (overrides.head_dim === undefined) delete merged.head_dim;
  const c = completeConfig(merged);
  validateConfig(c, `preset '${name}'`);
  return c;
}
