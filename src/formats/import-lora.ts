// MiniMind's own LoRA files (model/model_lora.py save_lora: `lora_xxx_768.pth`) -> LoRA matrices
// under our (Hugging Face) module names, ready for applyLoraWeights / saveLora (PEFT layout).
//
// The file is a state dict of `{module}.lora.A.weight` (rank, in) and `.lora.B.weight` (out, rank) in
// fp16, applied as y = Wx + B(A(x)) with no scaling (alpha = rank). m2-legacy files use v1 module
// names (layers.N.attention.wq); their base weights were in v1's interleaved RoPE layout, so B's rows
// on q/k projections are permuted per head like the base q/k rows (`minimind import` does the base).
import type { MiniMindConfig } from '../model/config.js';
import { interleavedToRotateHalf, v1KeyToHf } from './import-pth.js';
import { readPth } from './pth.js';
import { toFloat32, type HostTensor } from './safetensors.js';

export interface ImportedLora {
  /** module name (HF) -> A (rank, in), B (out, rank), float32 */
  matrices: Map<string, { A: HostTensor; B: HostTensor }>;
  rank: number;
  keyStyle: 'v1' | 'hf';
}

/** Reads a MiniMind LoRA .pth for a model of config `c`. */
export function importMiniMindLora(file: string, c: MiniMindConfig): ImportedLora {
  const sd = readPth(file);
  const parts = new Map<string, { A?: HostTensor; B?: HostTensor }>();
  const bad: string[] = [];
  for (const [k, t] of sd) {
    const m = /^(.+)\.lora\.([AB])\.weight$/.exec(k);
    if (!m) { bad.push(k); continue; }
    const e = parts.get(m[1]) ?? {};
    e[m[2] as 'A' | 'B'] = t;
    parts.set(m[1], e);
  }
  if (bad.length > 0) throw new Error(`${file}: not a MiniMind LoRA file: keys ${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ', ...' : ''} are not <module>.lora.A.weight / .lora.B.weight${[...sd.keys()].some((k) => k.includes('lora_A')) ? ' (this looks like a PEFT adapter: use it as an adapter folder directly)' : ''}`);
  if (parts.size === 0) throw new Error(`${file}: no LoRA matrices found`);
  const v1 = [...parts.keys()].some((n) => n.startsWith('layers.'));
  const matrices = new Map<string, { A: HostTensor; B: HostTensor }>();
  let rank = -1;
  for (const [mod, e] of parts) {
    if (!e.A || !e.B) throw new Error(`${file}: ${mod} has lora.${e.A ? 'A' : 'B'} but no lora.${e.A ? 'B' : 'A'}`);
    const name = v1 ? v1KeyToHf(`${mod}.weight`)?.slice(0, -'.weight'.length) : mod;
    if (!name) throw new Error(`${file}: unknown v1 module name ${mod}`);
    rank = e.A.shape[0];
    let b = toFloat32(e.B);
    const qk = v1 && !c.rope_interleaved ? /\.self_attn\.(q|k)_proj$/.exec(name) : null;
    if (qk) {
      const heads = qk[1] === 'q' ? c.num_attention_heads : c.num_key_value_heads;
      if (e.B.shape[0] !== heads * c.head_dim) throw new Error(`${file}: ${mod}.lora.B has ${e.B.shape[0]} rows, the model's ${qk[1]}_proj has ${heads * c.head_dim} (another model size?)`);
      b = interleavedToRotateHalf(b, heads, c.head_dim, e.B.shape[1]);
    }
    matrices.set(name, { A: { dtype: 'F32', shape: [...e.A.shape], data: toFloat32(e.A) }, B: { dtype: 'F32', shape: [...e.B.shape], data: b } });
  }
  return { matrices, rank, keyStyle: v1 ? 'v1' : 'hf' };
}
