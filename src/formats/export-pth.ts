// A model -> a .pth state dict that MiniMind's own Python scripts load (`model.load_state_dict(
// torch.load(path))`), in the key names of an era:
//   head  MiniMind2 / minimind-3 names (model.layers.N.self_attn.q_proj.weight, ...; lm_head.weight
//         stored as the tied copy of model.embed_tokens.weight, as their state_dict() has it)
//   v1    v1 / m2-legacy names (tok_embeddings, layers.N.attention.wq, feed_forward.w1, output.weight)
//         with the q/k rows permuted back to v1's interleaved-pair RoPE
// MiniMind saves half precision (`.half()`); fp32 and bf16 are there too.
import type { MiniMindForCausalLM } from '../model/model.js';
import { hfKeyToV1, rotateHalfToInterleaved } from './import-pth.js';
import { writePth } from './pth-write.js';
import { fromFloat32, type HostTensor } from './safetensors.js';

export type PthStyle = 'head' | 'v1';

/** The state dict in `style`'s names and layout, converted to dtype. Throws where MiniMind's model cannot hold this one. */
export function pthStateDict(model: MiniMindForCausalLM, style: PthStyle, dtype: 'F32' | 'F16' | 'BF16' = 'F16'): [string, HostTensor][] {
  const c = model.config;
  const why = (s: string) => new Error(`export pth: ${s}`);
  if (!c.tie_word_embeddings) throw why("MiniMind's model ties lm_head to the embedding, and this one has tie_word_embeddings = false");
  if (c.rope_interleaved) throw why('this model keeps v1\'s interleaved RoPE rows; re-import it with `minimind import` first');
  if (style === 'v1') {
    if (c.qk_norm) throw why('v1 has no QK-norm; use --style head');
    if (c.use_moe && (c.moe_style !== 'deepseek' || c.n_shared_experts !== 1)) throw why('v1\'s MoE is DeepSeek-style with exactly one shared expert; use --style head');
  }
  const out: [string, HostTensor][] = [];
  let embed: HostTensor | undefined;
  for (const [name, t] of model.namedParameters()) {
    const a = t.toArray();
    let v = a instanceof Float32Array ? a : Float32Array.from(a);
    let key = name;
    if (style === 'v1') {
      const m = /\.self_attn\.(q|k)_proj\.weight$/.exec(name);
      if (m) v = rotateHalfToInterleaved(v, m[1] === 'q' ? c.num_attention_heads : c.num_key_value_heads, c.head_dim, t.shape[1]);
      const k1 = hfKeyToV1(name);
      if (!k1) throw why(`no v1 name for ${name}`);
      key = k1;
    }
    const h = fromFloat32(v, [...t.shape], dtype, name);
    if (name === 'model.embed_tokens.weight') embed = h;
    out.push([key, h]);
  }
  // The tied output projection: the same storage under a second name, as torch.save writes it.
  out.push([style === 'v1' ? 'output.weight' : 'lm_head.weight', embed!]);
  return out;
}

/** Writes `out` (.pth). */
export function exportPth(model: MiniMindForCausalLM, out: string, opts: { style?: PthStyle; dtype?: 'F32' | 'F16' | 'BF16' } = {}): void {
  writePth(out, pthStateDict(model, opts.style ?? 'head', opts.dtype ?? 'F16'));
}
