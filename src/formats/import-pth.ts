// Import of MiniMind's own PyTorch checkpoints (.pth state dicts) into our model.
//
// Key styles (docs/minimind.md 1.7):
//   v1 / m2-legacy  tok_embeddings, layers.N.attention.wq ..., feed_forward.w1/w2/w3, output.weight;
//                   RoPE was interleaved (complex pairs), so q/k rows are permuted per head into the
//                   rotate-half layout (new row j < hd/2 <- old 2j; new row hd/2 + j <- old 2j + 1),
//                   which makes the rotate-half model compute exactly the same function.
//   m2 / HEAD       Hugging Face names (model.layers.N.self_attn.q_proj ...), already rotate-half.
// Dropped: layers.N.attention.mask (first v1 releases), RoPE buffers, the tied output/lm_head copy.
// `module.` (DDP) and `_orig_mod.` (torch.compile) prefixes are stripped.
import type { MiniMindConfig } from '../model/config.js';
import { MiniMindForCausalLM } from '../model/model.js';
import { readPth } from './pth.js';
import { toFloat32, type HostTensor } from './safetensors.js';

const V1_FFN: Record<string, string> = { w1: 'gate_proj', w2: 'down_proj', w3: 'up_proj' };
const V1_ATTN: Record<string, string> = { wq: 'q_proj', wk: 'k_proj', wv: 'v_proj', wo: 'o_proj' };

function stripPrefixes(k: string): string {
  for (;;) {
    if (k.startsWith('module.')) k = k.slice(7);
    else if (k.startsWith('_orig_mod.')) k = k.slice(10);
    else return k;
  }
}

/** A v1 / m2-legacy key -> its HF name, or null when unknown. */
export function v1KeyToHf(k: string): string | null {
  if (k === 'tok_embeddings.weight') return 'model.embed_tokens.weight';
  if (k === 'norm.weight') return 'model.norm.weight';
  if (k === 'output.weight') return 'lm_head.weight';
  let m = /^layers\.(\d+)\.(.*)$/.exec(k);
  if (!m) return null;
  const [, i, rest] = m;
  const L = `model.layers.${i}`;
  if (rest === 'attention_norm.weight') return `${L}.input_layernorm.weight`;
  if (rest === 'ffn_norm.weight') return `${L}.post_attention_layernorm.weight`;
  if ((m = /^attention\.(wq|wk|wv|wo)\.weight$/.exec(rest))) return `${L}.self_attn.${V1_ATTN[m[1]]}.weight`;
  if ((m = /^feed_forward\.(w[123])\.weight$/.exec(rest))) return `${L}.mlp.${V1_FFN[m[1]]}.weight`;
  if (rest === 'feed_forward.gate.weight') return `${L}.mlp.gate.weight`;
  if ((m = /^feed_forward\.experts\.(\d+)\.(w[123])\.weight$/.exec(rest))) return `${L}.mlp.experts.${m[1]}.${V1_FFN[m[2]]}.weight`;
  // v1 / m2-legacy: one FeedForward (no index); a ModuleList is accepted too
  if ((m = /^feed_forward\.shared_experts\.(?:(\d+)\.)?(w[123])\.weight$/.exec(rest))) return `${L}.mlp.shared_experts.${m[1] ?? '0'}.${V1_FFN[m[2]]}.weight`;
  return null;
}

/** Rows of w (heads*hd, cols) permuted per head from interleaved-pair to rotate-half RoPE layout. */
export function interleavedToRotateHalf(w: Float32Array, heads: number, hd: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    const base = h * hd;
    for (let j = 0; j < half; j++) {
      out.set(w.subarray((base + 2 * j) * cols, (base + 2 * j + 1) * cols), (base + j) * cols);
      out.set(w.subarray((base + 2 * j + 1) * cols, (base + 2 * j + 2) * cols), (base + half + j) * cols);
    }
  }
  return out;
}

/** The inverse of interleavedToRotateHalf: rotate-half rows i and hd/2 + i become neighbours 2i and 2i+1. */
export function rotateHalfToInterleaved(w: Float32Array, heads: number, hd: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    const base = h * hd;
    for (let j = 0; j < half; j++) {
      out.set(w.subarray((base + j) * cols, (base + j + 1) * cols), (base + 2 * j) * cols);
      out.set(w.subarray((base + half + j) * cols, (base + half + j + 1) * cols), (base + 2 * j + 1) * cols);
    }
  }
  return out;
}

/** An HF key -> its v1 / m2-legacy name (v1KeyToHf's inverse; v1 has one unindexed shared expert). */
export function hfKeyToV1(k: string): string | null {
  const top: Record<string, string> = { 'model.embed_tokens.weight': 'tok_embeddings.weight', 'model.norm.weight': 'norm.weight', 'lm_head.weight': 'output.weight' };
  if (top[k]) return top[k];
  let m = /^model\.layers\.(\d+)\.(.*)\.weight$/.exec(k);
  if (!m) return null;
  const [, i, rest] = m;
  const L = `layers.${i}`;
  const ffn = Object.fromEntries(Object.entries(V1_FFN).map(([a, b]) => [b, a]));
  const attn = Object.fromEntries(Object.entries(V1_ATTN).map(([a, b]) => [b, a]));
  if (rest === 'input_layernorm') return `${L}.attention_norm.weight`;
  if (rest === 'post_attention_layernorm') return `${L}.ffn_norm.weight`;
  if ((m = /^self_attn\.(q_proj|k_proj|v_proj|o_proj)$/.exec(rest))) return `${L}.attention.${attn[m[1]]}.weight`;
  if ((m = /^mlp\.(gate_proj|up_proj|down_proj)$/.exec(rest))) return `${L}.feed_forward.${ffn[m[1]]}.weight`;
  if (rest === 'mlp.gate') return `${L}.feed_forward.gate.weight`;
  if ((m = /^mlp\.experts\.(\d+)\.(gate_proj|up_proj|down_proj)$/.exec(rest))) return `${L}.feed_forward.experts.${m[1]}.${ffn[m[2]]}.weight`;
  if ((m = /^mlp\.shared_experts\.0\.(gate_proj|up_proj|down_proj)$/.exec(rest))) return `${L}.feed_forward.shared_experts.${ffn[m[1]]}.weight`;
  return null;
}

export interface ImportedStateDict {
  /** HF-named float32 state dict in the layout of `config` (rotate-half unless config.rope_interleaved). */
  stateDict: Map<string, { shape: number[]; data: Float32Array }>;
  keyStyle: 'v1' | 'hf';
  permuted: boolean;
  dropped: string[];
}

/** A .pth state dict (any MiniMind era) -> our state dict. Throws one error listing unknown keys. */
export function convertPthStateDict(sd: Map<string, HostTensor>, c: MiniMindConfig, where = 'checkpoint'): ImportedStateDict {
  const entries = [...sd].map(([k, t]) => [stripPrefixes(k), t] as const);
  const dropped: string[] = [];
  const kept = entries.filter(([k]) => {
    const drop = /^layers\.\d+\.attention\.mask$/.test(k) || /(^|\.)(pos_cis|freqs_cos|freqs_sin|inv_freq)$/.test(k);
    if (drop) dropped.push(k);
    return !drop;
  });
  const v1 = kept.some(([k]) => k.startsWith('tok_embeddings.') || k.startsWith('layers.'));
  const hf = kept.some(([k]) => k.startsWith('model.'));
  if (v1 && hf) throw new Error(`${where}: mixes v1 key names (tok_embeddings / layers.N) with Hugging Face names (model.*)`);
  if (!v1 && !hf) throw new Error(`${where}: no MiniMind weights found (expected tok_embeddings.weight / layers.N.* or model.embed_tokens.weight / model.layers.N.*); keys: ${kept.slice(0, 8).map(([k]) => k).join(', ')}`);
  const unknown: string[] = [];
  const named = new Map<string, HostTensor>();
  for (const [k, t] of kept) {
    const name = v1 ? v1KeyToHf(k) : k;
    if (!name) unknown.push(k);
    else named.set(name, t);
  }
  if (unknown.length > 0) throw new Error(`${where}: unknown v1 keys:\n  ${unknown.join('\n  ')}`);

  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const head = named.get('lm_head.weight');
  const embed = named.get('model.embed_tokens.weight');
  if (head && c.tie_word_embeddings) {
    // MiniMind ties them (one storage); if they differ the model was not tied
    const a = toFloat32(head);
    const b = embed ? toFloat32(embed) : null;
    if (b && (a.length !== b.length || a.some((v, i) => v !== b[i]))) {
      throw new Error(`${where}: the output projection (${v1 ? 'output.weight' : 'lm_head.weight'}) differs from the embedding, but the config has tie_word_embeddings = true`);
    }
    dropped.push(v1 ? 'output.weight (tied)' : 'lm_head.weight (tied)');
    named.delete('lm_head.weight');
  }
  const permute = v1 && !c.rope_interleaved;
  for (const [k, t] of named) {
    let data = toFloat32(t);
    if (data === t.data) data = data.slice(); // own the buffer (a view on the file otherwise)
    const m = permute ? /\.self_attn\.(q|k)_proj\.weight$/.exec(k) : null;
    if (m) {
      const heads = m[1] === 'q' ? c.num_attention_heads : c.num_key_value_heads;
      const cols = t.shape[1];
      if (t.shape.length === 2 && t.shape[0] === heads * c.head_dim) data = interleavedToRotateHalf(data, heads, c.head_dim, cols);
      // else: the shape is wrong for the config; loadStateDict reports it
    }
    out.set(k, { shape: [...t.shape], data });
  }
  return { stateDict: out, keyStyle: v1 ? 'v1' : 'hf', permuted: permute, dropped };
}

/** What the checkpoint's shapes say about its size (for hints when the config does not match). */
export function describeCheckpoint(sd: Map<string, { shape: number[] }>): string {
  const e = sd.get('model.embed_tokens.weight');
  let layers = -1;
  for (const k of sd.keys()) {
    const m = /^model\.layers\.(\d+)\./.exec(k);
    if (m) layers = Math.max(layers, Number(m[1]));
  }
  const q = sd.get('model.layers.0.self_attn.q_proj.weight');
  const kk = sd.get('model.layers.0.self_attn.k_proj.weight');
  const experts = [...sd.keys()].filter((k) => /^model\.layers\.0\.mlp\.experts\.\d+\.gate_proj\.weight$/.test(k)).length;
  const parts = [
    e ? `vocab_size ${e.shape[0]}, hidden_size ${e.shape[1]}` : 'no embedding',
    `${layers + 1} layers`,
    q && kk ? `q/k projection rows ${q.shape[0]}/${kk.shape[0]}` : '',
    experts ? `${experts} experts` : 'dense',
    sd.has('model.layers.0.self_attn.q_norm.weight') ? 'QK-norm' : 'no QK-norm',
  ];
  return parts.filter(Boolean).join(', ');
}

/** Reads a MiniMind .pth and returns a model with its weights (config decides the architecture). */
export function importPth(file: string, config: MiniMindConfig): { model: MiniMindForCausalLM; info: ImportedStateDict } {
  const info = convertPthStateDict(readPth(file), config, file);
  const model = new MiniMindForCausalLM(config, { init: false });
  try {
    model.loadStateDict(info.stateDict);
  } catch (e) {
    model.dispose();
    throw new Error(`${file}: ${(e as Error).message}\n  the checkpoint has: ${describeCheckpoint(info.stateDict)}`);
  }
  return { model, info };
}
