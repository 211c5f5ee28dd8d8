// Hugging Face model folders (DESIGN.md section 3): config.json + model.safetensors +
// generation_config.json (+ tokenizer.json / tokenizer_config.json copied from a tokenizer dir).
//
// Architectures written, so that `transformers` loads our folders without custom code:
//   dense, no QK-norm                         -> LlamaForCausalLM   (MiniMind2's own Llama export)
//   dense, QK-norm                            -> Qwen3ForCausalLM   (minimind-3's export)
//   qwen3-style MoE (no shared expert), QK-norm -> Qwen3MoeForCausalLM (per-expert keys, as on the Hub;
//                                                transformers >= 5 fuses them on load)
//   DeepSeek-style MoE with shared experts, no QK-norm -> Qwen2MoeForCausalLM (v1-moe, minimind2-moe; the
//                                                same function, see qwen2-moe.ts)
//   anything else (interleaved RoPE, DeepSeek-style MoE with QK-norm, ...) -> "MiniMindForCausalLM",
//                                                which only our loader reads (transformers has no such class).
// Weights keep HF names and the rotate-half RoPE layout; tied embeddings store only
// model.embed_tokens.weight (transformers re-ties lm_head). Loading also accepts the fused expert
// layout (experts.gate_up_proj / experts.down_proj), sharded safetensors and pytorch_model.bin.
import * as fs from '../io/fs.js';
import * as path from '../io/path.js';
import { configFromDict, countParameters, describeSize, effectiveRopeScaling, ropeScalingFromDict, validateConfig, type MiniMindConfig } from '../model/config.js';
import { MiniMindForCausalLM } from '../model/model.js';
import { fromFloat32, readSafetensors, serializeSafetensors, toFloat32, writeFileAtomic, type HostTensor } from './safetensors.js';
import { readPth } from './pth.js';
import { writeError } from '../core/write-file.js';
import { quoteUserText } from '../core/errors.js';
import { canonicalPath, makeFolder } from '../core/paths.js';
import { checkFitsF16 } from './halfFloat.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { FINGERPRINT_KEY, tokenizerFingerprint } from './tokenizer-check.js';
import { convertPthStateDict } from './import-pth.js';
import { configFieldsFromQwen2Moe, fromQwen2MoeTensors, isQwen2MoeLike, qwen2MoeConfigFields, toQwen2MoeTensors } from './qwen2-moe.js';
import { process } from '../io/process.js';
import { swapHint } from '../core/temp-paths.js';

export type HfArchitecture = 'LlamaForCausalLM' | 'Qwen3ForCausalLM' | 'Qwen3MoeForCausalLM' | 'Qwen2MoeForCausalLM' | 'MiniMindForCausalLM';
export const SUPPORTED_ARCHITECTURES: HfArchitecture[] = ['LlamaForCausalLM', 'Qwen3ForCausalLM', 'Qwen3MoeForCausalLM', 'Qwen2MoeForCausalLM', 'MiniMindForCausalLM'];
/** MiniMind's own v1 / m2-legacy custom-code exports (LMConfig field names, v1 weight names): read only. */
const LEGACY_ARCHITECTURES = ['Transformer', 'MiniMindLM'];

/** The transformers architecture a config is saved as (see the header). */
export function hfArchitecture(c: MiniMindConfig): HfArchitecture {
  if (c.rope_interleaved) return 'MiniMindForCausalLM';
  if (!c.use_moe) return c.qk_norm ? 'Qwen3ForCausalLM' : 'LlamaForCausalLM';
  if (c.moe_style === 'qwen3' && c.qk_norm && c.n_shared_experts === 0) return 'Qwen3MoeForCausalLM';
  if (isQwen2MoeLike(c)) return 'Qwen2MoeForCausalLM';
  return 'MiniMindForCausalLM';
}

const TORCH_DTYPE = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' } as const;

/** RoPE settings in both the transformers 4 (rope_theta / rope_scaling) and 5 (rope_parameters) spellings. */
function ropeJson(c: MiniMindConfig): Record<string, unknown> {
  const rs = effectiveRopeScaling(c);
  let scaling: Record<string, unknown> | null = null;
  if (rs?.type === 'linear') scaling = { rope_type: 'linear', type: 'linear', factor: rs.factor };
  else if (rs?.type === 'yarn') {
    scaling = {
      rope_type: 'yarn', type: 'yarn', factor: rs.factor, original_max_position_embeddings: rs.original_max_position_embeddings,
      beta_fast: rs.beta_fast, beta_slow: rs.beta_slow, attention_factor: rs.attention_factor,
    };
  }
  return {
    rope_theta: c.rope_theta,
    rope_scaling: scaling,
    rope_parameters: scaling ? { ...scaling, type: undefined, rope_theta: c.rope_theta } : { rope_type: 'default', rope_theta: c.rope_theta },
  };
}

/** config.json for a config, in the fields of its architecture. */
export function hfConfigJson(c: MiniMindConfig, dtype: 'F32' | 'BF16' | 'F16' = 'F32'): Record<string, unknown> {
  const arch = hfArchitecture(c);
  const base: Record<string, unknown> = {
    architectures: [arch],
    hidden_size: c.hidden_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    num_key_value_heads: c.num_key_value_heads,
    head_dim: c.head_dim,
    intermediate_size: c.intermediate_size,
    vocab_size: c.vocab_size,
    rms_norm_eps: c.rms_norm_eps,
    ...ropeJson(c),
    max_position_embeddings: c.max_position_embeddings,
    tie_word_embeddings: c.tie_word_embeddings,
    hidden_act: 'silu',
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: c.bos_token_id,
    eos_token_id: c.eos_token_id,
    ...(c.pad_token_id !== undefined ? { pad_token_id: c.pad_token_id } : {}),
    initializer_range: 0.02,
    use_cache: true,
    torch_dtype: TORCH_DTYPE[dtype],
  };
  switch (arch) {
    case 'LlamaForCausalLM':
      return { ...base, model_type: 'llama', mlp_bias: false, pretraining_tp: 1 };
    case 'Qwen3ForCausalLM':
      return { ...base, model_type: 'qwen3', use_sliding_window: false, sliding_window: null, max_window_layers: c.num_hidden_layers };
    case 'Qwen3MoeForCausalLM':
      return {
        ...base, model_type: 'qwen3_moe', use_sliding_window: false, sliding_window: null,
        num_experts: c.n_routed_experts, num_experts_per_tok: c.num_experts_per_tok, moe_intermediate_size: c.intermediate_size,
        norm_topk_prob: c.norm_topk_prob, decoder_sparse_step: 1, mlp_only_layers: [], router_aux_loss_coef: c.router_aux_loss_coef,
        output_router_logits: false,
      };
    case 'Qwen2MoeForCausalLM':
      return { ...base, ...qwen2MoeConfigFields(c) };
    case 'MiniMindForCausalLM': {
      // Our own fields verbatim (no auto_map: transformers cannot load this folder).
      const own: Record<string, unknown> = { ...c };
      delete own.rope_scaling;
      return { ...base, ...own, rope_scaling: c.rope_scaling, model_type: 'minimind', architectures: [arch] };
    }
  }
}

function architectureOf(j: Record<string, unknown>): string | undefined {
  const archs = j.architectures;
  return Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined;
}

/** v1 / m2-legacy LMConfig (dim, n_layers, n_heads, n_kv_heads, hidden_dim, multiple_of, norm_eps, max_seq_len, ...). */
function legacyConfig(j: Record<string, unknown>, where: string): MiniMindConfig {
  const dim = j.dim as number;
  const multiple = (j.multiple_of as number | undefined) ?? 64;
  const hidden = typeof j.hidden_dim === 'number' ? j.hidden_dim : typeof dim === 'number' ? multiple * Math.floor((Math.floor((8 * dim) / 3) + multiple - 1) / multiple) : undefined;
  const heads = j.n_heads as number;
  return configFromDict({
    hidden_size: dim, num_hidden_layers: j.n_layers, num_attention_heads: heads, num_key_value_heads: j.n_kv_heads ?? heads,
    head_dim: typeof dim === 'number' && typeof heads === 'number' ? Math.floor(dim / heads) : undefined,
    intermediate_size: hidden, vocab_size: j.vocab_size ?? 6400, rms_norm_eps: j.norm_eps ?? 1e-5, rope_theta: j.rope_theta ?? 1e4,
    max_position_embeddings: j.max_seq_len ?? 512, tie_word_embeddings: true, qk_norm: false, rope_interleaved: false,
    use_moe: j.use_moe ?? false, moe_style: 'deepseek', num_experts_per_tok: j.num_experts_per_tok ?? 2, n_routed_experts: j.n_routed_experts ?? 4,
    n_shared_experts: j.n_shared_experts === true ? 1 : j.n_shared_experts === false ? 0 : j.n_shared_experts ?? 1,
    norm_topk_prob: j.norm_topk_prob ?? true, aux_loss_alpha: j.aux_loss_alpha ?? 0.01, seq_aux: j.seq_aux ?? true,
    bos_token_id: j.bos_token_id ?? 1, eos_token_id: j.eos_token_id ?? 2,
  }, where);
}

/**
 * Reads a config.json of any supported architecture; problems are appended to `problems`.
 * weightNames (when known) fills what MiniMind's own custom-code configs leave implicit: QK-norm
 * (minimind-3 has q_norm weights) and the MoE style (shared experts = DeepSeek style).
 */
export function configFromHfJson(j: Record<string, unknown>, where: string, problems: string[], weightNames?: Set<string>): MiniMindConfig | null {
  const arch = architectureOf(j);
  if (arch && LEGACY_ARCHITECTURES.includes(arch)) {
    try {
      return legacyConfig(j, where);
    } catch (e) {
      problems.push((e as Error).message);
      return null;
    }
  }
  if (!arch || !SUPPORTED_ARCHITECTURES.includes(arch as HfArchitecture)) {
    problems.push(`${where}: unknown architecture ${arch === undefined ? '(no "architectures" field)' : `'${arch}'`}; supported: ${[...SUPPORTED_ARCHITECTURES, ...LEGACY_ARCHITECTURES].join(', ')}`);
    return null;
  }
  if (j.hidden_act !== undefined && j.hidden_act !== 'silu') problems.push(`${where}: hidden_act '${String(j.hidden_act)}' is not supported (MiniMind uses silu)`);
  if (j.attention_bias === true) problems.push(`${where}: attention_bias=true is not supported (MiniMind has no biases)`);
  if (j.mlp_bias === true) problems.push(`${where}: mlp_bias=true is not supported (MiniMind has no biases)`);
  if (j.use_sliding_window === true) problems.push(`${where}: use_sliding_window=true is not supported`);
  if (arch === 'MiniMindForCausalLM') {
    try {
      // MiniMind's own exports (m2: n_routed_experts + shared experts; HEAD: num_experts, QK-norm)
      // do not carry our qk_norm / moe_style fields.
      const d: Record<string, unknown> = { ...j };
      const names = weightNames ? [...weightNames] : [];
      if (d.qk_norm === undefined || d.qk_norm === null) d.qk_norm = names.some((n) => n.endsWith('self_attn.q_norm.weight')) || (names.length === 0 && d.num_experts !== undefined);
      if (d.use_moe && (d.moe_style === undefined || d.moe_style === null)) {
        const shared = names.some((n) => n.includes('.mlp.shared_experts.'));
        d.moe_style = shared || (d.n_routed_experts !== undefined && d.num_experts === undefined) ? 'deepseek' : 'qwen3';
        if (d.moe_style === 'qwen3') d.n_shared_experts = 0;
      }
      if (d.use_moe && d.moe_style === 'deepseek' && typeof d.n_shared_experts === 'boolean') d.n_shared_experts = d.n_shared_experts ? 1 : 0;
      return configFromDict(d, where);
    } catch (e) {
      problems.push((e as Error).message);
      return null;
    }
  }
  const rp = (j.rope_parameters ?? null) as Record<string, unknown> | null;
  const theta = (j.rope_theta as number | undefined) ?? (rp?.rope_theta as number | undefined) ?? 10000;
  let scaling = (j.rope_scaling ?? null) as Record<string, unknown> | null;
  if (!scaling && rp && (rp.rope_type ?? 'default') !== 'default') scaling = rp;
  if (scaling) {
    const t = scaling.rope_type ?? scaling.type;
    if (t !== 'linear' && t !== 'yarn') problems.push(`${where}: rope scaling type '${String(t)}' is not supported (linear, yarn)`);
  }
  const heads = j.num_attention_heads as number;
  const d: Record<string, unknown> = {
    hidden_size: j.hidden_size,
    num_hidden_layers: j.num_hidden_layers,
    num_attention_heads: heads,
    num_key_value_heads: j.num_key_value_heads ?? heads,
    head_dim: j.head_dim ?? (typeof j.hidden_size === 'number' && typeof heads === 'number' ? Math.floor(j.hidden_size / heads) : undefined),
    intermediate_size: j.intermediate_size,
    vocab_size: j.vocab_size,
    rms_norm_eps: j.rms_norm_eps ?? 1e-6,
    rope_theta: theta,
    // transformers' defaults when a field is absent: 2048 positions for Llama, 32768 for Qwen3; untied
    max_position_embeddings: j.max_position_embeddings ?? (arch === 'LlamaForCausalLM' ? 2048 : 32768),
    tie_word_embeddings: j.tie_word_embeddings ?? false,
    qk_norm: arch === 'Qwen3ForCausalLM' || arch === 'Qwen3MoeForCausalLM',
    rope_interleaved: false,
    use_moe: arch === 'Qwen3MoeForCausalLM',
    bos_token_id: typeof j.bos_token_id === 'number' ? j.bos_token_id : 1,
    eos_token_id: typeof j.eos_token_id === 'number' ? j.eos_token_id : Array.isArray(j.eos_token_id) ? j.eos_token_id[0] : 2,
    pad_token_id: typeof j.pad_token_id === 'number' ? j.pad_token_id : undefined,
  };
  if (arch === 'Qwen2MoeForCausalLM') Object.assign(d, configFieldsFromQwen2Moe(j, where, problems));
  if (arch === 'Qwen3MoeForCausalLM') {
    if (Array.isArray(j.mlp_only_layers) && j.mlp_only_layers.length > 0) problems.push(`${where}: mlp_only_layers ${JSON.stringify(j.mlp_only_layers)} (dense layers inside an MoE model) are not supported`);
    if (j.decoder_sparse_step !== undefined && j.decoder_sparse_step !== 1) problems.push(`${where}: decoder_sparse_step ${String(j.decoder_sparse_step)} is not supported (every layer must be MoE)`);
    Object.assign(d, {
      moe_style: 'qwen3',
      n_routed_experts: j.num_experts ?? j.num_local_experts,
      num_experts_per_tok: j.num_experts_per_tok,
      n_shared_experts: 0,
      intermediate_size: j.moe_intermediate_size ?? j.intermediate_size,
      norm_topk_prob: j.norm_topk_prob ?? false,
      router_aux_loss_coef: j.router_aux_loss_coef ?? 0.001,
    });
  }
  try {
    const c = configFromDict(d, where);
    if (scaling) c.rope_scaling = ropeScalingFromDict(scaling);
    validateConfig(c, where);
    return c;
  } catch (e) {
    problems.push((e as Error).message);
    return null;
  }
}

/** The model's parameters under HF names (in its architecture's layout), converted to `dtype`. */
export function modelTensors(model: MiniMindForCausalLM, dtype: 'F32' | 'BF16' | 'F16' = 'F32'): Map<string, HostTensor> {
  let f32 = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of model.namedParameters()) {
    const a = t.toArray();
    f32.set(name, { shape: [...t.shape], data: a instanceof Float32Array ? a : Float32Array.from(a) });
  }
  if (isQwen2MoeLike(model.config)) f32 = toQwen2MoeTensors(f32, model.config);
  const out = new Map<string, HostTensor>();
  for (const [name, t] of f32) out.set(name, fromFloat32(t.data, t.shape, dtype, name));
  return out;
}

/**
 * A model folder's generation_config.json ({} when it has none): sampling defaults, max_new_tokens,
 * and the max_length training stages record (inference-folder.ts contextLength). A file that is not
 * a JSON object is the folder's problem, said with its path.
 */
export function readGenerationConfig(dir: string): Record<string, unknown> {
  const p = path.join(dir, 'generation_config.json');
  if (!fs.existsSync(p)) return {};
  let j: unknown;
  try {
    j = JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (e) {
    throw new Error(`${p}: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error(`${p}: not a JSON object`);
  return j as Record<string, unknown>;
}

/**
 * Throws (UserError) when the model's weights cannot be saved as `dtype`: fp16 holds nothing beyond
 * 65504. Training stages call it before the run, so a model that will not fit is refused before any
 * work, not at the final save.
 */
export function checkSavable(model: MiniMindForCausalLM, dtype: 'F32' | 'BF16' | 'F16'): void {
  if (dtype !== 'F16') return;
  for (const [name, t] of model.namedParameters()) {
    const a = t.toArray();
    checkFitsF16(a instanceof Float32Array ? a : Float32Array.from(a), name);
  }
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];
const OPTIONAL_TOKENIZER_FILES = ['special_tokens_map.json', 'chat_template.jinja'];

/**
 * Writes a model folder. A new folder appears atomically (written beside it, then renamed); an
 * existing folder has each file replaced atomically (weights first, config.json last).
 * `generation`: generation_config.json fields kept from a source folder (sampling settings); the
 * token ids always come from the model's config.
 */
export function saveModelFolder(dir: string, model: MiniMindForCausalLM, opts: { tokenizerDir?: string; dtype?: 'F32' | 'BF16' | 'F16'; generation?: Record<string, unknown> } = {}): void {
  const dtype = opts.dtype ?? 'F32';
  const c = model.config;
  const files: [string, Uint8Array][] = [];
  if (opts.tokenizerDir) {
    const missing = TOKENIZER_FILES.filter((f) => !fs.existsSync(path.join(opts.tokenizerDir!, f)));
    if (missing.length > 0) throw new Error(`saveModelFolder: tokenizer folder ${opts.tokenizerDir} lacks ${missing.join(', ')}`);
    for (const f of [...TOKENIZER_FILES, ...OPTIONAL_TOKENIZER_FILES]) {
      const p = path.join(opts.tokenizerDir, f);
      if (fs.existsSync(p)) files.push([f, fs.readFileSync(p)]);
    }
  }
  const weights = serializeSafetensors(modelTensors(model, dtype), { format: 'pt' });
  const gen: Record<string, unknown> = { _from_model_config: true, ...opts.generation, bos_token_id: c.bos_token_id, eos_token_id: c.eos_token_id };
  if (c.pad_token_id !== undefined) gen.pad_token_id = c.pad_token_id;
  // Python reads 1 as an int; transformers wants floats for these RoPE fields.
  const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2).replace(/("(?:attention_factor|factor|beta_fast|beta_slow)": )(-?\d+)(?=[,\n])/g, '$1$2.0') + '\n');
  // The tokenizer's fingerprint goes into config.json, so that loaders can tell it from another
  // tokenizer of the same size (tokenizer-check.ts); transformers keeps unknown config keys.
  const fingerprint = opts.tokenizerDir ? fingerprintOf(opts.tokenizerDir) : undefined;
  const config = { ...hfConfigJson(c, dtype), ...(fingerprint ? { [FINGERPRINT_KEY]: fingerprint } : {}) };
  const all: [string, Uint8Array][] = [['model.safetensors', weights], ...files, ['generation_config.json', json(gen)], ['config.json', json(config)]];

  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new Error(`saveModelFolder: ${dir} exists and is not a folder`);
    for (const [f, data] of all) writeFileAtomic(path.join(dir, f), data);
    return;
  }
  const target = canonicalPath(dir); // through a symlink to a folder still to be made: where it points
  const parent = path.dirname(target);
  const made = makeFolder(parent);
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    fs.mkdirSync(tmp);
    for (const [f, data] of all) writeFileAtomic(path.join(tmp, f), data);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true }); // a failed save leaves nothing behind
    made?.remove();
    throw writeError(e, dir);
  }
}

/** The fingerprint of the tokenizer in dir; none when it does not parse (the loaders report that). */
function fingerprintOf(dir: string): string | undefined {
  try {
    return tokenizerFingerprint(Tokenizer.load(dir));
  } catch {
    return undefined;
  }
}

/** The weights of a folder: model.safetensors, a sharded index, or pytorch_model.bin. */
export function readFolderWeights(dir: string, problems: string[]): Map<string, HostTensor> | null {
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  const bin = path.join(dir, 'pytorch_model.bin');
  try {
    if (fs.existsSync(single)) return readSafetensors(single).tensors;
    if (fs.existsSync(index)) {
      const map = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map;
      if (!map) throw new Error(`${index}: no weight_map`);
      const out = new Map<string, HostTensor>();
      for (const shard of new Set(Object.values(map))) {
        // shards are files of the folder (model-00001-of-00002.safetensors): a name that leaves it
        // would have the loader open any file of the machine (a device, a pipe, /etc/passwd)
        if (typeof shard !== 'string' || path.basename(shard) !== shard || shard === '..' || shard === '.') throw new Error(`${index}: shard ${quoteUserText(JSON.stringify(shard))} is not a file name in the folder; the file is damaged or hostile`);
        const p = path.join(dir, shard);
        if (!fs.existsSync(p)) { problems.push(`missing file: ${p} (listed in model.safetensors.index.json)`); continue; }
        for (const [k, t] of readSafetensors(p).tensors) out.set(k, t);
      }
      return out;
    }
    if (fs.existsSync(bin)) return readPth(bin);
  } catch (e) {
    problems.push((e as Error).message);
    return null;
  }
  problems.push(`missing file: ${single} (no model.safetensors, model.safetensors.index.json or pytorch_model.bin)`);
  return null;
}

/**
 * HF-named tensors -> the model's state dict (float32): unpacks fused experts (gate_up_proj
 * (E, 2F, d), down_proj (E, d, F)), drops lm_head.weight when tied, and drops rotary buffers.
 */
export function toModelStateDict(tensors: Map<string, HostTensor>, c: MiniMindConfig): Map<string, { shape: number[]; data: Float32Array }> {
  if (isQwen2MoeLike(c) && [...tensors.keys()].some((k) => k.includes('.mlp.shared_expert.'))) tensors = fromQwen2MoeTensors(tensors, c);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of tensors) {
    if (c.tie_word_embeddings && k === 'lm_head.weight') continue;
    if (/rotary_emb\.inv_freq$|(^|\.)freqs_(cos|sin)$|(^|\.)pos_cis$/.test(k)) continue;
    const fused = /^(.*\.mlp\.experts)\.(gate_up_proj|down_proj)$/.exec(k);
    if (fused && t.shape.length === 3) {
      const [E, rowsPer, cols] = t.shape;
      const data = toFloat32(t);
      for (let e = 0; e < E; e++) {
        const block = data.subarray(e * rowsPer * cols, (e + 1) * rowsPer * cols);
        if (fused[2] === 'down_proj') {
          out.set(`${fused[1]}.${e}.down_proj.weight`, { shape: [rowsPer, cols], data: block.slice() });
        } else {
          const F = rowsPer / 2;
          out.set(`${fused[1]}.${e}.gate_proj.weight`, { shape: [F, cols], data: block.slice(0, F * cols) });
          out.set(`${fused[1]}.${e}.up_proj.weight`, { shape: [F, cols], data: block.slice(F * cols) });
        }
      }
      continue;
    }
    out.set(k, { shape: t.shape, data: toFloat32(t) });
  }
  return out;
}

/** Loads a model folder; one Error lists every problem (missing files, unknown architecture, bad config, key/shape mismatches). */
export function loadModelFolder(dir: string): { model: MiniMindForCausalLM; config: MiniMindConfig } {
  const problems: string[] = [];
  const fail = (): never => {
    throw new Error(`cannot load model folder ${dir}:\n  ${problems.join('\n  ')}`);
  };
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    problems.push(`the folder does not exist${swapHint(dir)}`);
    fail();
  }
  const cfgPath = path.join(dir, 'config.json');
  let json: Record<string, unknown> | null = null;
  if (!fs.existsSync(cfgPath)) problems.push(`missing file: ${cfgPath}`);
  else {
    try {
      json = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      problems.push(`${cfgPath}: not valid JSON (${(e as Error).message})`);
    }
  }
  const tensors = readFolderWeights(dir, problems);
  const config = json ? configFromHfJson(json, cfgPath, problems, tensors ? new Set(tensors.keys()) : undefined) : null;
  if (!config || !tensors || problems.length > 0) fail();
  const legacy = LEGACY_ARCHITECTURES.includes(architectureOf(json!) ?? '');
  // Before allocating the model: a config.json that asks for far more parameters than the
  // weights hold cannot load, and could ask for more memory than the machine has (a near miss
  // goes on to the per-tensor list of mismatches below).
  let stored = 0;
  for (const t of tensors!.values()) stored += t.data.length;
  const wanted = countParameters(config!).total;
  if (wanted > 2 * stored) {
    problems.push(`config.json describes ${wanted} parameters (${describeSize(config!)}) but the weights hold ${stored}; config.json does not belong to these weights`);
    fail();
  }
  const model = new MiniMindForCausalLM(config!, { init: false });
  try {
    // v1 / m2-legacy exports: v1 weight names and interleaved RoPE, converted as `minimind import` does
    model.loadStateDict(legacy ? convertPthStateDict(tensors!, config!, dir).stateDict : toModelStateDict(tensors!, config!));
  } catch (e) {
    model.dispose();
    const lines = (e as Error).message.split('\n');
    if (lines.length > 1) problems.push(`weights do not match config.json (${hfConfigJson(config!).architectures}):`, ...lines.slice(1).map((l) => '  ' + l.trim()));
    else problems.push(lines[0]);
    fail();
  }
  return { model, config: config! };
}
