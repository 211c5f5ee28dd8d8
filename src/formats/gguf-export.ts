// A model folder -> one GGUF file for llama.cpp / ollama (and an ollama Modelfile beside it).
//
// Architectures (llama.cpp names), chosen as convert_hf_to_gguf.py chooses them for the
// transformers class our folders are saved as:
//   dense, no QK-norm (LlamaForCausalLM)     -> "llama"     q/k rows permuted to llama.cpp's
//                                                           interleaved-pair RoPE (rope type NORM)
//   dense, QK-norm (Qwen3ForCausalLM)        -> "qwen3"     rotate-half RoPE (NEOX): no permutation
//   Qwen3-style MoE (Qwen3MoeForCausalLM)    -> "qwen3moe"  experts stacked into (E, F, d) tensors
// Anything else gets a clear error: un-permuted v1 RoPE and MiniMind's YaRN (no verified llama.cpp
// equivalent) and the DeepSeek-style MoE (llama.cpp's qwen2moe never renormalises the top-k weights).
// The tokenizer goes in as llama.cpp's "gpt2" byte-level BPE (tokens, token types, merges,
// special ids, chat template) with the GPT-2 pre-tokenizer regex, which is MiniMind's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MiniMindConfig } from '../model/config.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { checkFitsF16 } from './halfFloat.js';
import { checkTokenizerForModel } from './tokenizer-check.js';
import { bool, encodeTensor, f32, QK8_0, str, u32, writeGguf, type GgmlType, type GgufTensor, type GgufValue } from './gguf.js';
import { hfArchitecture, modelTensors } from './hf-folder.js';
import { rotateHalfToInterleaved } from './import-pth.js';
import type { HostTensor } from './safetensors.js';
import { writeFileAtomic } from './safetensors.js';

export type GgufOutType = 'f32' | 'f16' | 'bf16' | 'q8_0';
export const GGUF_OUT_TYPES: GgufOutType[] = ['f32', 'f16', 'bf16', 'q8_0'];

/** llama_ftype of the file as a whole (general.file_type). */
const FILE_TYPE: Record<GgufOutType, number> = { f32: 0, f16: 1, q8_0: 7, bf16: 32 };
/** llama_token_type */
const TOKEN_TYPE = { NORMAL: 1, UNUSED: 5, CONTROL: 3, USER_DEFINED: 4 } as const;

export type GgufArch = 'llama' | 'qwen3' | 'qwen3moe';

/** The llama.cpp architecture for a config, or an Error saying why there is none. */
export function ggufArchitecture(c: MiniMindConfig): GgufArch {
  const why = (s: string) => new Error(`GGUF export: ${s}`);
  if (c.rope_interleaved) throw why('this model keeps v1\'s interleaved RoPE rows; re-import it with `minimind import` (which permutes them) first');
  if (c.rope_scaling || c.inference_rope_scaling) {
    if (c.rope_scaling?.type !== 'linear' || c.inference_rope_scaling) throw why("MiniMind's YaRN has no verified llama.cpp equivalent; export without rope_scaling / inference_rope_scaling");
  }
  const arch = hfArchitecture(c);
  if (arch === 'LlamaForCausalLM') return 'llama';
  if (arch === 'Qwen3ForCausalLM') return 'qwen3';
  if (arch === 'Qwen3MoeForCausalLM') {
    if (!c.norm_topk_prob) throw why('llama.cpp\'s qwen3moe always renormalises the top-k weights, and this model has norm_topk_prob = false');
    return 'qwen3moe';
  }
  if (c.use_moe && c.moe_style === 'deepseek' && !c.qk_norm && c.n_shared_experts > 0) {
    throw why("llama.cpp has no architecture for the DeepSeek-style MoE (shared experts): its qwen2moe, the nearest, does not renormalise the top-k weights as MiniMind does; supported: dense models and the Qwen3-style MoE");
  }
  throw why(`llama.cpp has no architecture for a ${c.use_moe ? `${c.moe_style}-style MoE${c.n_shared_experts > 0 ? ' with shared experts' : ''}` : 'model of this kind'}${c.qk_norm ? ' with QK-norm' : ''} (supported: dense models, with or without QK-norm, and the Qwen3-style MoE)`);
}

/** GGUF tensor name of an HF (non-expert) tensor name, or undefined. */
function ggufName(hf: string): string | undefined {
  const top: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' };
  if (top[hf]) return top[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf);
  if (!m) return undefined;
  const part: Record<string, string> = {
    input_layernorm: 'attn_norm', post_attention_layernorm: 'ffn_norm',
    'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output',
    'self_attn.q_norm': 'attn_q_norm', 'self_attn.k_norm': 'attn_k_norm',
    'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down', 'mlp.gate': 'ffn_gate_inp',
  };
  return part[m[2]] ? `blk.${m[1]}.${part[m[2]]}.weight` : undefined;
}

/**
 * The ggml type the tensor `hfName` (shape row-major) is stored in: norms (1-D) and the MoE router
 * stay f32, as convert_hf_to_gguf keeps them; q8_0 needs rows a multiple of 32 long (else f16).
 */
export function ggufStorageType(hfName: string, shape: number[], out: GgufOutType): GgmlType {
  if (shape.length === 1 || out === 'f32' || hfName.endsWith('.mlp.gate.weight')) return 'F32';
  if (out === 'q8_0') return shape[shape.length - 1] % QK8_0 === 0 ? 'Q8_0' : 'F16';
  return out === 'bf16' ? 'BF16' : 'F16';
}

function f32Data(t: HostTensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error('GGUF export: expected float32 tensors');
  return t.data;
}

/** The model's tensors under GGUF names, in ggml layout and encodings. */
export function ggufTensors(model: MiniMindForCausalLM, out: GgufOutType): GgufTensor[] {
  const c = model.config;
  const arch = ggufArchitecture(c);
  const hf = modelTensors(model, 'F32');
  const tensors: GgufTensor[] = [];
  const add = (hfName: string, name: string, shape: number[], values: Float32Array) => {
    const type = ggufStorageType(hfName, shape, out);
    if (type === 'F16') checkFitsF16(values, hfName);
    tensors.push({ name, shape, type, data: encodeTensor(values, type) });
  };
  for (const [k, t] of hf) {
    if (/\.mlp\.experts\.\d+\./.test(k)) continue; // stacked below
    const name = ggufName(k);
    if (!name) throw new Error(`GGUF export: no GGUF name for tensor ${k}`);
    let v = f32Data(t);
    if (arch === 'llama' && /self_attn\.[qk]_proj\.weight$/.test(k)) {
      const heads = k.includes('q_proj') ? c.num_attention_heads : c.num_key_value_heads;
      // llama.cpp's NORM RoPE pairs neighbours (convert_hf_to_gguf's LlamaModel.permute)
      v = rotateHalfToInterleaved(v, heads, c.head_dim, t.shape[1]);
    }
    add(k, name, t.shape, v);
  }
  if (arch === 'qwen3moe') {
    // (E, F, d) for gate/up, (E, d, F) for down: every expert's matrix, stacked.
    const E = c.n_routed_experts;
    for (let l = 0; l < c.num_hidden_layers; l++) {
      for (const [proj, gg] of [['gate_proj', 'ffn_gate_exps'], ['up_proj', 'ffn_up_exps'], ['down_proj', 'ffn_down_exps']] as const) {
        const first = hf.get(`model.layers.${l}.mlp.experts.0.${proj}.weight`)!;
        const per = first.data.length;
        const stacked = new Float32Array(E * per);
        for (let e = 0; e < E; e++) stacked.set(f32Data(hf.get(`model.layers.${l}.mlp.experts.${e}.${proj}.weight`)!), e * per);
        add(`model.layers.${l}.mlp.experts.0.${proj}.weight`, `blk.${l}.${gg}.weight`, [E, ...first.shape], stacked);
      }
    }
  }
  return tensors;
}

/** tokenizer.* metadata: llama.cpp's "gpt2" byte-level BPE with the model's vocabulary size. */
export function ggufTokenizerMetadata(tok: Tokenizer, vocabSize: number): [string, GgufValue][] {
  if (tok.vocabSize > vocabSize) throw new Error(`GGUF export: the tokenizer has ${tok.vocabSize} tokens but the model only ${vocabSize} embedding rows`);
  const model = tok.json.model;
  if (model.type !== undefined && model.type !== 'BPE') throw new Error(`GGUF export: tokenizer model '${model.type}' is not byte-level BPE`);
  const tokens: string[] = [];
  const types = new Int32Array(vocabSize);
  for (let id = 0; id < vocabSize; id++) {
    const t = tok.idToToken(id);
    const added = t !== undefined && tok.json.added_tokens?.some((a) => a.id === id && a.content === t);
    if (t === undefined) {
      tokens.push(`[PAD${id}]`);
      types[id] = TOKEN_TYPE.UNUSED;
    } else {
      tokens.push(t);
      types[id] = !added ? TOKEN_TYPE.NORMAL : tok.isSpecialId(id) ? TOKEN_TYPE.CONTROL : TOKEN_TYPE.USER_DEFINED;
    }
  }
  const merges = model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const meta: [string, GgufValue][] = [
    ['tokenizer.ggml.model', str('gpt2')],
    // MiniMind's ByteLevel pre-tokenizer uses GPT-2's regex (llama.cpp: LLAMA_VOCAB_PRE_TYPE_GPT2)
    ['tokenizer.ggml.pre', str('gpt-2')],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: types }],
    ['tokenizer.ggml.merges', { type: 'string[]', value: merges }],
  ];
  const ids: [string, number | undefined][] = [['bos_token_id', tok.bosTokenId], ['eos_token_id', tok.eosTokenId], ['padding_token_id', tok.padTokenId], ['unknown_token_id', tok.unkTokenId]];
  for (const [k, id] of ids) if (id !== undefined) meta.push([`tokenizer.ggml.${k}`, u32(id)]);
  meta.push(['tokenizer.ggml.add_bos_token', bool(tok.config.add_bos_token === true)]);
  meta.push(['tokenizer.ggml.add_eos_token', bool(tok.config.add_eos_token === true)]);
  if (tok.chatTemplate !== undefined) meta.push(['tokenizer.chat_template', str(tok.chatTemplate)]);
  return meta;
}

/** general.* and <arch>.* hyper-parameters. */
export function ggufModelMetadata(c: MiniMindConfig, name: string, out: GgufOutType): [string, GgufValue][] {
  const arch = ggufArchitecture(c);
  const meta: [string, GgufValue][] = [
    ['general.architecture', str(arch)],
    ['general.name', str(name)],
    ['general.file_type', u32(FILE_TYPE[out])],
    ['general.quantization_version', u32(2)],
    [`${arch}.vocab_size`, u32(c.vocab_size)],
    [`${arch}.context_length`, u32(c.max_position_embeddings)],
    [`${arch}.embedding_length`, u32(c.hidden_size)],
    [`${arch}.block_count`, u32(c.num_hidden_layers)],
    [`${arch}.feed_forward_length`, u32(c.intermediate_size)],
    [`${arch}.attention.head_count`, u32(c.num_attention_heads)],
    [`${arch}.attention.head_count_kv`, u32(c.num_key_value_heads)],
    [`${arch}.attention.key_length`, u32(c.head_dim)],
    [`${arch}.attention.value_length`, u32(c.head_dim)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(c.rms_norm_eps)],
    [`${arch}.rope.freq_base`, f32(c.rope_theta)],
    [`${arch}.rope.dimension_count`, u32(c.head_dim)],
  ];
  if (c.rope_scaling?.type === 'linear') {
    meta.push([`${arch}.rope.scaling.type`, str('linear')], [`${arch}.rope.scaling.factor`, f32(c.rope_scaling.factor)]);
  }
  if (arch === 'qwen3moe') {
    meta.push(
      [`${arch}.expert_count`, u32(c.n_routed_experts)],
      [`${arch}.expert_used_count`, u32(c.num_experts_per_tok)],
      [`${arch}.expert_feed_forward_length`, u32(c.intermediate_size)],
    );
  }
  return meta;
}

/**
 * An ollama Modelfile for the GGUF file: ollama reads the Jinja chat template from the GGUF, but
 * its own TEMPLATE (Go template syntax) and stop tokens are what `ollama create` uses, so the
 * ChatML turns MiniMind uses are spelled out here.
 */
export function ollamaModelfile(ggufFile: string, tok: Tokenizer): string {
  const lines = [`# ollama create <name> -f ${path.basename(ggufFile)}.Modelfile`, `FROM ./${path.basename(ggufFile)}`, ''];
  const ct = tok.chatTemplate ?? '';
  if (ct.includes('<|im_start|>')) {
    lines.push(
      'TEMPLATE """{{- range .Messages }}<|im_start|>{{ .Role }}',
      '{{ .Content }}<|im_end|>',
      '{{ end }}<|im_start|>assistant',
      '"""',
      'PARAMETER stop "<|im_end|>"',
      'PARAMETER stop "<|im_start|>"',
    );
  }
  const eos = tok.eosTokenId !== undefined ? tok.idToToken(tok.eosTokenId) : undefined;
  if (eos && !ct.includes('<|im_start|>')) lines.push(`PARAMETER stop "${eos}"`);
  return lines.join('\n') + '\n';
}

export interface ExportGgufOptions {
  type?: GgufOutType;
  /** general.name (default: the model folder's name). */
  name?: string;
  /** Also write `<out>.Modelfile` for ollama (default true). */
  modelfile?: boolean;
}

/** Writes `out` (GGUF) for a loaded model and its tokenizer folder; returns the files written. */
export function exportGguf(model: MiniMindForCausalLM, tokenizerDir: string, out: string, opts: ExportGgufOptions = {}): string[] {
  const type = opts.type ?? 'f16';
  if (!GGUF_OUT_TYPES.includes(type)) throw new Error(`GGUF export: unknown type '${type}' (${GGUF_OUT_TYPES.join(', ')})`);
  if (!fs.existsSync(path.join(tokenizerDir, 'tokenizer.json'))) throw new Error(`GGUF export: ${tokenizerDir} has no tokenizer.json (a GGUF file carries its tokenizer)`);
  const tok = Tokenizer.load(tokenizerDir);
  const c = model.config;
  checkTokenizerForModel(tok, tokenizerDir, c.vocab_size, tokenizerDir); // the GGUF file pairs them for good
  const metadata = [...ggufModelMetadata(c, opts.name ?? path.basename(path.resolve(tokenizerDir)), type), ...ggufTokenizerMetadata(tok, c.vocab_size)];
  writeGguf(out, metadata, ggufTensors(model, type));
  const files = [out];
  if (opts.modelfile ?? true) {
    const mf = `${out}.Modelfile`;
    writeFileAtomic(mf, Buffer.from(ollamaModelfile(out, tok)));
    files.push(mf);
  }
  return files;
}
