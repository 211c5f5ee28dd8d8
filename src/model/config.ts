// The model configuration: one interface for every MiniMind era (v1, MiniMind2, minimind-3), in
// MiniMind / Hugging Face field names, plus its validation. Presets live in presets.ts.
//
// Era differences are all config: GQA ratio, rope_theta, rms_norm_eps, QK-norm, FFN width, MoE
// style. Weights are always kept in the rotate-half RoPE layout (rope_interleaved = false); the
// flag exists so that an un-permuted v1 checkpoint can still be run exactly.

export type MoeStyle = 'deepseek' | 'qwen3';

export interface RopeScaling {
  /** linear: every frequency divided by factor; yarn: MiniMind HEAD's YaRN (docs/minimind.md 1.4). */
  type: 'linear' | 'yarn';
  factor: number;
  original_max_position_embeddings: number;
  beta_fast: number;
  beta_slow: number;
  /** cos and sin are multiplied by this (MiniMind: 1.0). */
  attention_factor: number;
}

export interface MiniMindConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  /** FFN width (dense), and each expert's width when use_moe (MiniMind: moe_intermediate_size = intermediate_size). */
  intermediate_size: number;
  vocab_size: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
  hidden_act: 'silu';
  /** minimind-3: RMSNorm over head_dim on q and k (weights shared across heads) before RoPE. */
  qk_norm: boolean;
  /** v1 / m2-legacy pair layout (x[2i], x[2i+1]); false = rotate-half (x[i], x[i+hd/2]). */
  rope_interleaved?: boolean;
  use_moe: boolean;
  /** deepseek: v1/MiniMind2 gate (+ shared experts, seq aux); qwen3: minimind-3 (no shared, switch aux). */
  moe_style: MoeStyle;
  num_experts_per_tok: number;
  n_routed_experts: number;
  n_shared_experts: number;
  norm_topk_prob: boolean;
  /** deepseek aux coefficient (v1 0.01, MiniMind2 0.1 then 0.01). */
  aux_loss_alpha: number;
  /** deepseek: sequence-level aux loss (MiniMind default true). */
  seq_aux: boolean;
  /** qwen3 aux coefficient (minimind-3: 5e-4). */
  router_aux_loss_coef: number;
  rope_scaling: RopeScaling | null;
  /** MiniMind HEAD: turn on YaRN (with its default parameters when rope_scaling is null). */
  inference_rope_scaling?: boolean;
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id?: number;
  /** Not used by the model (MiniMind's dropout defaults to 0 everywhere); kept for round-trips. */
  dropout?: number;
}

/** MiniMind HEAD's YaRN parameters (docs/minimind.md 1.4), used when inference_rope_scaling is on. */
export const DEFAULT_YARN: RopeScaling = {
  type: 'yarn', factor: 16, original_max_position_embeddings: 2048, beta_fast: 32, beta_slow: 1, attention_factor: 1.0,
};

/** v1 / MiniMind2 FFN width: 64 * ceil(int(8d/3) / 64). */
export function ffnSizeV1(d: number): number {
  return 64 * Math.floor((Math.floor((8 * d) / 3) + 63) / 64);
}

/** minimind-3 FFN width: ceil(d * pi / 64) * 64. */
export function ffnSizeV3(d: number): number {
  return Math.ceil((d * Math.PI) / 64) * 64;
}

/** The RoPE scaling in effect: rope_scaling, or MiniMind's default YaRN when only inference_rope_scaling is set. */
export function effectiveRopeScaling(c: MiniMindConfig): RopeScaling | null {
  if (c.rope_scaling) return c.rope_scaling;
  return c.inference_rope_scaling ? DEFAULT_YARN : null;
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The largest vocabulary a config or a trained tokenizer may have (Qwen's is 151,936; ids are int32). */
export const MAX_VOCAB_SIZE = 1 << 22;

/**
 * Upper bounds on the sizes of a config, far above any MiniMind (or Llama-3-405B: 126 layers,
 * width 16384): they refuse a damaged or hostile config.json (`num_hidden_layers: 1e9`) at once,
 * before the memory estimate (modelMemoryBytes) even matters.
 */
export const CONFIG_LIMITS: Record<string, number> = {
  hidden_size: 1 << 16, num_hidden_layers: 1024, num_attention_heads: 1024, num_key_value_heads: 1024, head_dim: 4096,
  intermediate_size: 1 << 20, vocab_size: MAX_VOCAB_SIZE, max_position_embeddings: 1 << 24, n_routed_experts: 1024,
};

/** Throws one Error listing every problem with c (missing fields, wrong types, inconsistent sizes). */
export function validateConfig(c: MiniMindConfig, where = 'config'): void {
  const p: string[] = [];
  const x = c as unknown as Record<string, unknown>;
  for (const k of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'intermediate_size', 'vocab_size', 'max_position_embeddings']) {
    if (!isPosInt(x[k])) p.push(`${k} must be a positive integer, got ${JSON.stringify(x[k])}`);
    else if (x[k] as number > CONFIG_LIMITS[k]) p.push(`${k} ${x[k]} is over the limit of ${CONFIG_LIMITS[k]}`);
  }
  for (const k of ['rms_norm_eps', 'rope_theta']) {
    if (!isNum(x[k]) || (x[k] as number) <= 0) p.push(`${k} must be a positive number, got ${JSON.stringify(x[k])}`);
  }
  for (const k of ['tie_word_embeddings', 'qk_norm', 'use_moe']) {
    if (typeof x[k] !== 'boolean') p.push(`${k} must be true or false, got ${JSON.stringify(x[k])}`);
  }
  if (x.hidden_act !== undefined && x.hidden_act !== 'silu') p.push(`hidden_act must be 'silu' (MiniMind's SwiGLU), got ${JSON.stringify(x.hidden_act)}`);
  if (isPosInt(c.num_attention_heads) && isPosInt(c.num_key_value_heads) && c.num_attention_heads % c.num_key_value_heads !== 0) {
    p.push(`num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${c.num_key_value_heads})`);
  }
  if (isPosInt(c.head_dim) && c.head_dim % 2 !== 0) p.push(`head_dim must be even for RoPE, got ${c.head_dim}`);
  for (const k of ['bos_token_id', 'eos_token_id']) {
    if (!Number.isInteger(x[k])) p.push(`${k} must be an integer, got ${JSON.stringify(x[k])}`);
  }
  if (c.use_moe) {
    if (c.moe_style !== 'deepseek' && c.moe_style !== 'qwen3') p.push(`moe_style must be 'deepseek' or 'qwen3', got ${JSON.stringify(c.moe_style)}`);
    if (!isPosInt(c.n_routed_experts)) p.push(`n_routed_experts must be a positive integer, got ${JSON.stringify(c.n_routed_experts)}`);
    else if (c.n_routed_experts > CONFIG_LIMITS.n_routed_experts) p.push(`n_routed_experts ${c.n_routed_experts} is over the limit of ${CONFIG_LIMITS.n_routed_experts}`);
    if (!isPosInt(c.num_experts_per_tok)) p.push(`num_experts_per_tok must be a positive integer, got ${JSON.stringify(c.num_experts_per_tok)}`);
    else if (isPosInt(c.n_routed_experts) && c.num_experts_per_tok > c.n_routed_experts) p.push(`num_experts_per_tok (${c.num_experts_per_tok}) exceeds n_routed_experts (${c.n_routed_experts})`);
    if (!Number.isInteger(c.n_shared_experts) || c.n_shared_experts < 0) p.push(`n_shared_experts must be an integer >= 0, got ${JSON.stringify(c.n_shared_experts)}`);
    if (c.moe_style === 'qwen3' && c.n_shared_experts > 0) p.push(`moe_style 'qwen3' has no shared experts (n_shared_experts = ${c.n_shared_experts})`);
    if (typeof c.norm_topk_prob !== 'boolean') p.push(`norm_topk_prob must be true or false`);
    for (const k of ['aux_loss_alpha', 'router_aux_loss_coef']) if (!isNum(x[k]) || (x[k] as number) < 0) p.push(`${k} must be a number >= 0, got ${JSON.stringify(x[k])}`);
  }
  const rs = c.rope_scaling;
  if (rs !== null && rs !== undefined) {
    if (rs.type !== 'linear' && rs.type !== 'yarn') p.push(`rope_scaling.type must be 'linear' or 'yarn', got ${JSON.stringify(rs.type)}`);
    if (!isNum(rs.factor) || rs.factor <= 0) p.push(`rope_scaling.factor must be a positive number`);
    if (rs.type === 'yarn') {
      for (const k of ['original_max_position_embeddings', 'beta_fast', 'beta_slow', 'attention_factor'] as const) {
        if (!isNum(rs[k])) p.push(`rope_scaling.${k} must be a number, got ${JSON.stringify(rs[k])}`);
      }
    }
  }
  if (p.length > 0) throw new Error(`${where}: invalid model configuration:\n  ${p.join('\n  ')}`);
}

/** Fills defaults for fields a partial config may omit (head_dim, FFN width, MoE fields...). */
export function completeConfig(partial: Partial<MiniMindConfig> & Pick<MiniMindConfig, 'hidden_size'>): MiniMindConfig {
  const qk = partial.qk_norm ?? false;
  const heads = partial.num_attention_heads ?? 8;
  const c: MiniMindConfig = {
    hidden_size: partial.hidden_size,
    num_hidden_layers: 8,
    num_attention_heads: heads,
    num_key_value_heads: qk ? 4 : 2,
    head_dim: Math.floor(partial.hidden_size / heads),
    intermediate_size: qk ? ffnSizeV3(partial.hidden_size) : ffnSizeV1(partial.hidden_size),
    vocab_size: 6400,
    rms_norm_eps: qk ? 1e-6 : 1e-5,
    rope_theta: 1e6,
    max_position_embeddings: 32768,
    tie_word_embeddings: true,
    hidden_act: 'silu',
    qk_norm: qk,
    rope_interleaved: false,
    use_moe: false,
    moe_style: qk ? 'qwen3' : 'deepseek',
    num_experts_per_tok: qk ? 1 : 2,
    n_routed_experts: 4,
    n_shared_experts: qk ? 0 : 1,
    norm_topk_prob: true,
    aux_loss_alpha: 0.01,
    seq_aux: true,
    router_aux_loss_coef: 5e-4,
    rope_scaling: null,
    inference_rope_scaling: false,
    bos_token_id: 1,
    eos_token_id: 2,
    dropout: 0,
  };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  return c;
}

/** Parameter count of a config: total, and active per token (MoE: only the routed top-k experts). Embedding counted once when tied. */
export function countParameters(c: MiniMindConfig): { total: number; active: number } {
  const d = c.hidden_size;
  const attn = d * c.num_attention_heads * c.head_dim * 2 + d * c.num_key_value_heads * c.head_dim * 2 + (c.qk_norm ? 2 * c.head_dim : 0);
  const ffn = 3 * d * c.intermediate_size;
  let mlp = ffn;
  let mlpActive = ffn;
  if (c.use_moe) {
    const shared = c.moe_style === 'deepseek' ? c.n_shared_experts : 0;
    mlp = c.n_routed_experts * ffn + shared * ffn + c.n_routed_experts * d;
    mlpActive = c.num_experts_per_tok * ffn + shared * ffn + c.n_routed_experts * d;
  }
  const norms = 2 * d;
  const embed = c.vocab_size * d * (c.tie_word_embeddings ? 1 : 2);
  const base = embed + d + c.num_hidden_layers * (attn + norms);
  return { total: base + c.num_hidden_layers * mlp, active: base + c.num_hidden_layers * mlpActive };
}

/**
 * Bytes a model of this config holds on the host before any input: its fp32 parameters and the
 * RoPE tables (cos and sin, max_position_embeddings x head_dim / 2 each). Training adds gradients
 * and AdamW's two moments (4x the parameters); activations come on top and depend on the batch.
 */
export function modelMemoryBytes(c: MiniMindConfig, training = false): number {
  const params = countParameters(c).total;
  return params * 4 * (training ? 4 : 1) + 2 * c.max_position_embeddings * (c.head_dim / 2) * 4;
}

/** "hidden_size 32, 100000 layers, vocab 6400: 1.2G parameters" — what modelMemoryBytes is about. */
export function describeSize(c: MiniMindConfig): string {
  const n = countParameters(c).total;
  const count = n >= 1e9 ? `${(n / 1e9).toFixed(1)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${n}`;
  return `hidden_size ${c.hidden_size}, ${c.num_hidden_layers} layers, vocab_size ${c.vocab_size}, ${c.max_position_embeddings} positions: ${count} parameters`;
}

const KNOWN_KEYS: (keyof MiniMindConfig)[] = [
  'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'intermediate_size', 'vocab_size',
  'rms_norm_eps', 'rope_theta', 'max_position_embeddings', 'tie_word_embeddings', 'hidden_act', 'qk_norm', 'rope_interleaved',
  'use_moe', 'moe_style', 'num_experts_per_tok', 'n_routed_experts', 'n_shared_experts', 'norm_topk_prob', 'aux_loss_alpha',
  'seq_aux', 'router_aux_loss_coef', 'rope_scaling', 'inference_rope_scaling', 'bos_token_id', 'eos_token_id', 'pad_token_id', 'dropout',
];

/**
 * A config from a MiniMind-style JSON object (our config.json for MiniMindForCausalLM, the parity
 * fixtures' metadata, `minimind import --config`). Unknown keys are ignored, null means "default";
 * Qwen3-MoE synonyms num_experts / moe_intermediate_size are accepted. Validates the result.
 */
export function configFromDict(d: Record<string, unknown>, where = 'config'): MiniMindConfig {
  if (typeof d.hidden_size !== 'number') throw new Error(`${where}: hidden_size ${d.hidden_size === undefined ? 'is missing' : `must be a number, got ${JSON.stringify(d.hidden_size)}`}`);
  const partial: Record<string, unknown> = {};
  for (const k of KNOWN_KEYS) if (d[k] !== null && d[k] !== undefined) partial[k] = d[k];
  if (partial.n_routed_experts === undefined && typeof d.num_experts === 'number') partial.n_routed_experts = d.num_experts;
  if (d.use_moe && typeof d.moe_intermediate_size === 'number') partial.intermediate_size = d.moe_intermediate_size;
  if (d.rope_scaling && typeof d.rope_scaling === 'object') partial.rope_scaling = ropeScalingFromDict(d.rope_scaling as Record<string, unknown>);
  const c = completeConfig(partial as Partial<MiniMindConfig> & Pick<MiniMindConfig, 'hidden_size'>);
  validateConfig(c, where);
  return c;
}

/** rope_scaling in MiniMind ('type') or HF ('rope_type') spelling, with MiniMind's YaRN defaults. */
export function ropeScalingFromDict(r: Record<string, unknown>): RopeScaling {
  const type = (r.type ?? r.rope_type) as RopeScaling['type'];
  return {
    type,
    factor: (r.factor as number) ?? DEFAULT_YARN.factor,
    original_max_position_embeddings: (r.original_max_position_embeddings as number) ?? DEFAULT_YARN.original_max_position_embeddings,
    beta_fast: (r.beta_fast as number) ?? DEFAULT_YARN.beta_fast,
    beta_slow: (r.beta_slow as number) ?? DEFAULT_YARN.beta_slow,
    attention_factor: (r.attention_factor as number) ?? DEFAULT_YARN.attention_factor,
  };
}
