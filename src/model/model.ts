// MiniMindForCausalLM: the one model class for every MiniMind era, chosen by the config
// (docs/minimind.md 1). Pre-norm decoder: h = x + Attn(RMSNorm(x)); out = h + FFN(RMSNorm(h)); final
// RMSNorm; logits = h W^T with W the embedding matrix when tied. Parameter names are Hugging Face's
// (model.layers.0.self_attn.q_proj.weight ...), so model folders are a walk over namedParameters().
import { isGradEnabled, noGrad } from '../core/autograd.js';
import type { FusedDecodeSpec } from '../backends/backend.js';
import { scope } from '../core/scope.js';
import { Rng } from '../core/random.js';
import { tensor, type Tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { Embedding, Linear, Module, RMSNorm } from '../nn/index.js';
import { Attention, rectangleContext, type AttentionContext, type RopeTensors } from './attention.js';
import { describeSize, modelMemoryBytes, validateConfig, type MiniMindConfig } from './config.js';
import { checkFitsInMemory } from '../core/memory.js';
import { KVCache } from './kv-cache.js';
import { FeedForward, ModuleList, type InitSpec } from './layers.js';
import { MoEFeedForward } from './moe.js';
import { modelRopeTables } from './rope-tables.js';
import { IGNORE_INDEX, shiftLabels, shiftMask } from './labels.js';
import { fusedDecoder } from './fused-decode.js';
import { forwardRagged, type Segment } from './batch-decode.js';
import type { BatchOneDecoder } from './batch-generate.js';
import { checkpoint } from '../nn/checkpoint.js';
import { linearCrossEntropy, LOSS_CHUNK_ELEMENTS } from '../nn/linear-cross-entropy.js';

export { KVCache } from './kv-cache.js';

/** An Rng whose draws are all zero (normal 0, uniform 0.5 -> kaiming 0): "no initialisation". */
class ZeroRng extends Rng {
  override next(): number {
    return 0.5;
  }
  override normal(): number {
    return 0;
  }
}

export class DecoderLayer extends Module {
  readonly self_attn: Attention;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: FeedForward | MoEFeedForward;

  constructor(c: MiniMindConfig, init: InitSpec) {
    super();
    this.self_attn = this.registerModule('self_attn', new Attention(c, init));
    this.input_layernorm = this.registerModule('input_layernorm', new RMSNorm(c.hidden_size, c.rms_norm_eps));
    this.post_attention_layernorm = this.registerModule('post_attention_layernorm', new RMSNorm(c.hidden_size, c.rms_norm_eps));
    this.mlp = this.registerModule('mlp', c.use_moe ? new MoEFeedForward(c, init) : new FeedForward(c.hidden_size, c.intermediate_size, init));
  }

  /**
   * The decoder block, the one definition every path runs (the fused decode kernels implement the
   * same block: fused-decode.ts). x (B, T, d) -> (B, T, d), plus the MoE aux loss of this layer
   * (or null); ctx places the tokens and holds the cache (attention.ts).
   */
  forward(x: Tensor, ctx: AttentionContext, layer: number): { x: Tensor; aux: Tensor | null } {
    const h = ops.add(x, this.self_attn.forward(this.input_layernorm.forward(x), ctx, layer));
    const n = this.post_attention_layernorm.forward(h);
    if (this.mlp instanceof MoEFeedForward) {
      const { y, aux } = this.mlp.forward(n);
      return { x: ops.add(h, y), aux };
    }
    return { x: ops.add(h, this.mlp.forward(n)), aux: null };
  }

  /**
   * This block's weights as a fused decode step takes them (FusedDecodeSpec's layer, less the
   * cache), or null for an MoE block, which the fused kernels do not cover. The kernels compute
   * forward() above with them: the decoder-block test holds them to it.
   */
  denseWeights(): DenseBlockWeights | null {
    if (this.mlp instanceof MoEFeedForward) return null;
    const a = this.self_attn;
    return {
      inputNorm: this.input_layernorm.weight,
      wq: a.q_proj.weight, wk: a.k_proj.weight, wv: a.v_proj.weight, wo: a.o_proj.weight,
      qNorm: a.q_norm?.weight ?? null, kNorm: a.k_norm?.weight ?? null,
      postNorm: this.post_attention_layernorm.weight,
      wGate: this.mlp.gate_proj.weight, wUp: this.mlp.up_proj.weight, wDown: this.mlp.down_proj.weight,
    };
  }
}

type FusedLayerSpec = FusedDecodeSpec['layers'][number];
/** FusedDecodeSpec's per-layer weights as the block's tensors (a spec field the block lacks is a type error). */
export type DenseBlockWeights = { [K in Exclude<keyof FusedLayerSpec, 'kCache' | 'vCache'>]: null extends FusedLayerSpec[K] ? Tensor | null : Tensor };

/** The `model.` part: embeddings, layers, final norm. */
export class MiniMindModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<DecoderLayer>;
  readonly norm: RMSNorm;
  constructor(c: MiniMindConfig, init: InitSpec) {
    super();
    this.embed_tokens = this.registerModule('embed_tokens', new Embedding(c.vocab_size, c.hidden_size, { rng: init.rng, std: init.std }));
    this.layers = this.registerModule('layers', new ModuleList<DecoderLayer>());
    for (let i = 0; i < c.num_hidden_layers; i++) this.layers.push(new DecoderLayer(c, init));
    this.norm = this.registerModule('norm', new RMSNorm(c.hidden_size, c.rms_norm_eps));
  }
}

export interface ForwardOptions {
  /** Decode with this cache: positions start at cache.length; the new k/v are appended. Runs without autograd. */
  cache?: KVCache;
  /** Logits for the last position only: (B, 1, V). */
  lastOnly?: boolean;
  /**
   * Logits only at these flat positions b * T + t: (N, V). For scoring right-padded batches
   * (eval), where each row's answer sits at its own position; the final norm and lm_head run on
   * those N rows only.
   */
  positions?: readonly number[];
}

export class MiniMindForCausalLM extends Module {
  readonly config: MiniMindConfig;
  readonly model: MiniMindModel;
  /** Only when tie_word_embeddings is false; otherwise the logits use model.embed_tokens.weight. */
  readonly lm_head: Linear | null = null;
  /** RoPE tables (max_position_embeddings, head_dim / 2), shared by every layer (batch-decode.ts reads them). */
  readonly rope: RopeTensors;
  /**
   * Trade compute for memory in training (HF's gradient_checkpointing_enable()): each layer keeps only
   * its input and runs again in backward (nn/checkpoint.ts), and loss() takes the LM head and
   * cross-entropy in row chunks without the full logits (nn/linear-cross-entropy.ts). Gradients are
   * the plain run's.
   */
  gradientCheckpointing = false;

  /**
   * opts.seed: initialisation seed (default 42). opts.init = false skips the random draws (weights
   * start at zero, norms at one): for models whose weights are loaded right after, which saves
   * seconds per 100M parameters.
   */
  constructor(config: MiniMindConfig, opts: { seed?: number; init?: boolean } = {}) {
    super();
    validateConfig(config);
    // Refuse before allocating: a config too large for this machine would otherwise grow the
    // process until the operating system kills it.
    checkFitsInMemory(modelMemoryBytes(config), `a model of ${describeSize(config)} (fp32 weights and RoPE tables)`, 'choose a smaller configuration');
    this.config = { ...config };
    // MiniMind v1 _init_weights: N(0, 0.02); up_proj (w3) and o_proj (wo) N(0, 0.02 / sqrt(2 L)).
    const rng = opts.init === false ? new ZeroRng(0) : new Rng(opts.seed ?? 42);
    const init: InitSpec = { rng, std: 0.02, residualStd: 0.02 / Math.sqrt(2 * config.num_hidden_layers) };
    this.model = this.registerModule('model', new MiniMindModel(config, init));
    if (!config.tie_word_embeddings) this.lm_head = this.registerModule('lm_head', new Linear(config.hidden_size, config.vocab_size, { rng: init.rng, std: init.std }));
    // RoPE tables: computed and uploaded once per model.
    const t = modelRopeTables(config);
    const half = config.head_dim / 2;
    this.rope = {
      cos: tensor(t.cos, [config.max_position_embeddings, half]).keep(),
      sin: tensor(t.sin, [config.max_position_embeddings, half]).keep(),
    };
  }

  /** The output projection weight (V, d): the embedding matrix when tied. */
  get outputWeight(): Tensor {
    return this.lm_head ? this.lm_head.weight : this.model.embed_tokens.weight;
  }

  /**
   * inputIds (B, T) int32 -> logits (B, T, V), or (B, 1, V) with lastOnly; auxLoss = the MoE aux
   * loss summed over layers (training mode and MoE only, else null).
   */
  forward(inputIds: Tensor, opts: ForwardOptions = {}): { logits: Tensor; auxLoss: Tensor | null } {
    if (inputIds.shape.length !== 2 || inputIds.dtype !== 'int32') {
      throw new Error(`MiniMindForCausalLM.forward: input_ids must be an int32 (B, T) tensor, got ${inputIds.dtype} [${inputIds.shape.join(', ')}]`);
    }
    const cache = opts.cache;
    if (!cache) return this.run(inputIds, 0, opts.lastOnly ?? false, undefined, opts.positions);
    // Decoding is inference: nothing is recorded for autograd (the cache writes are not differentiable).
    const [B, T] = inputIds.shape;
    if (cache.numLayers !== this.config.num_hidden_layers || cache.numKvHeads !== this.config.num_key_value_heads || cache.headDim !== this.config.head_dim) {
      throw new Error('MiniMindForCausalLM.forward: the KV cache was made for another model configuration (use model.newCache)');
    }
    if (B !== cache.batch) throw new Error(`MiniMindForCausalLM.forward: batch ${B} does not match the KV cache's batch ${cache.batch}`);
    cache.reserve(cache.length + T);
    const out = noGrad(() => this.run(inputIds, cache.length, opts.lastOnly ?? false, cache));
    cache.length += T;
    return out;
  }

  /**
   * The final hidden states (B, T, d) after the last RMSNorm, with autograd, and the MoE aux loss:
   * what a value head reads (PPO's critic).
   */
  hiddenStates(inputIds: Tensor): { hidden: Tensor; auxLoss: Tensor | null } {
    const r = this.run(inputIds, 0, false, undefined, undefined, true);
    return { hidden: r.logits, auxLoss: r.auxLoss };
  }

  // headless: stop after the final norm (the "logits" returned are the hidden states).
  private run(ids: Tensor, pos0: number, lastOnly: boolean, cache?: KVCache, positions?: readonly number[], headless = false): { logits: Tensor; auxLoss: Tensor | null } {
    const [B, T] = ids.shape;
    // Without autograd nothing needs a finished layer's activations: run each layer in its own
    // scope and free its input, so a no-grad forward holds about one layer's activations at a time
    // (as PyTorch frees tensors when they die) instead of every layer's until the caller's scope ends.
    const inference = !isGradEnabled();
    const advance = (next: Tensor): void => {
      if (inference) x.dispose();
      x = next;
    };
    let x = this.model.embed_tokens.forward(ids); // (B, T, d)
    let auxLoss: Tensor | null = null;
    const recompute = this.gradientCheckpointing && !inference && !cache;
    const ctx = rectangleContext(this.rope, this.config.rope_interleaved ?? false, pos0, cache);
    this.model.layers.items.forEach((layer, l) => {
      const run = () => layer.forward(x, ctx, l);
      let r: { x: Tensor; aux: Tensor | null };
      if (inference) r = scope(run);
      else if (recompute) {
        const [y, aux] = checkpoint((h) => {
          const o = layer.forward(h, ctx, l);
          return [o.x, o.aux];
        }, x);
        r = { x: y!, aux };
      } else r = run();
      advance(r.x);
      if (r.aux) auxLoss = auxLoss ? ops.add(auxLoss, r.aux) : r.aux;
    });
    if (lastOnly && T > 1) advance(ops.slice(x, 1, T - 1, 1)); // (B, 1, d): the final norm and lm_head only where needed
    else if (positions) {
      for (const p of positions) if (!Number.isInteger(p) || p < 0 || p >= B * T) throw new Error(`MiniMindForCausalLM.forward: position ${p} is outside 0..${B * T - 1}`);
      // Row gather (N, d) from (B*T, d): the embedding kernel is exactly a row lookup.
      const flat = x.reshape([B * T, x.shape[2]]);
      const rows = ops.embedding(tensor(Int32Array.from(positions), [positions.length], 'int32', x.backend), flat);
      if (inference) flat.dispose();
      advance(rows);
    }
    advance(this.model.norm.forward(x));
    if (headless) return { logits: x, auxLoss };
    const logits = ops.linear(x, this.outputWeight);
    if (inference) x.dispose();
    return { logits, auxLoss };
  }

  /**
   * Causal-LM loss with the Hugging Face shift (labels.ts: logits at t predict labels at t+1); labels (B, T)
   * int32 with -100 ignored, as a tensor or as the host array (B * T) it was made from (on a GPU
   * the host array saves a download in the middle of the step). loss = logitsLoss + auxLoss (when
   * there is one). lossMask (optional, aligned with labels) weights each target as MiniMind's
   * loss_mask does.
   */
  loss(inputIds: Tensor, labels: Tensor | Int32Array, opts: { lossMask?: Float32Array } = {}): { loss: Tensor; logitsLoss: Tensor; auxLoss: Tensor | null } {
    const [B, T] = inputIds.shape;
    if (labels instanceof Int32Array ? labels.length !== B * T : labels.shape.length !== 2 || labels.shape[0] !== B || labels.shape[1] !== T) {
      const got = labels instanceof Int32Array ? `${labels.length} labels` : `labels [${labels.shape.join(', ')}]`;
      throw new Error(`MiniMindForCausalLM.loss: ${got} must match input_ids [${inputIds.shape.join(', ')}]`);
    }
    const shifted = shiftLabels(labels instanceof Int32Array ? labels : labels.toArray(), B, T);
    const mask = opts.lossMask ? shiftMask(opts.lossMask, B, T) : undefined;
    let logitsLoss: Tensor;
    let auxLoss: Tensor | null;
    if (this.gradientCheckpointing && isGradEnabled()) {
      const r = this.hiddenStates(inputIds);
      auxLoss = r.auxLoss;
      logitsLoss = linearCrossEntropy(r.hidden, this.outputWeight, shifted, { ignoreIndex: IGNORE_INDEX, mask });
    } else {
      const r = this.forward(inputIds);
      auxLoss = r.auxLoss;
      logitsLoss = ops.crossEntropy(r.logits, tensor(shifted, [B, T], 'int32', r.logits.backend), { ignoreIndex: IGNORE_INDEX, mask, targetsHost: shifted });
    }
    const loss = auxLoss ? ops.add(logitsLoss, auxLoss) : logitsLoss;
    return { loss, logitsLoss, auxLoss };
  }

  /**
   * Bytes a training forward of `tokens` tokens keeps for its backward on the host backends, an
   * estimate: per token and layer about 8 hidden-size rows (norms, q/k/v, attention output,
   * residuals) and 4 rows of the feed-forward width (gate, up, SiLU, product) per expert visited;
   * attention runs in tiles, so nothing grows with the sequence length squared; the logits and
   * their log-softmax take about 2.2 vocabulary rows a token. With gradient checkpointing: each
   * layer's input twice, one layer recomputed at a time, and the logits of one chunk of
   * linearCrossEntropy at most. test/train/memory-estimate.test.ts measures the growth.
   */
  trainingActivationBytes(tokens: number): number {
    const c = this.config;
    const h = c.hidden_size;
    const experts = c.use_moe ? c.num_experts_per_tok + c.n_shared_experts : 1;
    const layer = 8 * h + 4 * c.intermediate_size * experts + (c.use_moe ? 2 * c.n_routed_experts : 0);
    const logits = 2.2 * c.vocab_size;
    if (!this.gradientCheckpointing) return 4 * tokens * (c.num_hidden_layers * layer + logits);
    return 4 * (tokens * (2 * c.num_hidden_layers * h + layer) + Math.min(tokens, LOSS_CHUNK_ELEMENTS / c.vocab_size) * logits);
  }

  /**
   * One inference forward over sequences at different positions, each with its own batch-1 cache:
   * segment s appends its tokens to its cache; returns the logits after each segment's last token,
   * S rows of V floats (batch-decode.ts). The generation engine's step.
   */
  forwardRagged(segments: readonly Segment[]): Float32Array {
    return forwardRagged(this, segments);
  }

  /** Batch-1 decoding through the backend's fused step (one native call or CUDA graph per token), or null where it does not apply (fused-decode.ts). */
  fusedDecoder(cache: KVCache): BatchOneDecoder | null {
    return fusedDecoder(this, cache);
  }

  /** A KV cache for `batch` sequences (grows as needed up to max_position_embeddings; maxLen reserves up front). */
  newCache(batch: number, maxLen?: number): KVCache {
    const c = this.config;
    return new KVCache(batch, c.num_hidden_layers, c.num_key_value_heads, c.head_dim, maxLen ?? 256, c.max_position_embeddings, this.outputWeight.backend);
  }

  override dispose(): void {
    super.dispose();
    this.rope.cos.dispose();
    this.rope.sin.dispose();
  }
}
