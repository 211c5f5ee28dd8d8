// MiniMind self-attention (docs/minimind.md 1.1, 1.5): q/k/v projections, optional QK-norm (minimind-3),
// RoPE at each token's position, causal GQA, o_proj. Where the tokens sit and what they attend to
// comes from an AttentionContext: the generic path (model.ts) runs one (B, T) rectangle at
// positions pos0.., writing the new k/v into a KV cache's preallocated buffers when it has one and
// attending over the filled prefix; the batched path (batch-decode.ts) runs the tokens of several
// sequences, each at its own position with its own cache. The block itself is written once.
import type { Tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { Linear, Module, RMSNorm } from '../nn/index.js';
import type { MiniMindConfig } from './config.js';
import type { KVCache } from './kv-cache.js';
import type { InitSpec } from './layers.js';

export interface RopeTensors {
  cos: Tensor; // (max_position_embeddings, head_dim / 2)
  sin: Tensor;
}

/** Positions and attention for one forward through the decoder blocks. */
export interface AttentionContext {
  /** x (B, T, heads, head_dim) rotated at its tokens' positions. */
  rope(x: Tensor): Tensor;
  /** Causal attention of layer l over the new tokens (and the cached ones): q (B, T, H, hd), k/v (B, T, KVH, hd) -> (B, T, H, hd). */
  attend(q: Tensor, k: Tensor, v: Tensor, layer: number): Tensor;
}

/**
 * The generic context: a (B, T) rectangle at positions pos0 .. pos0 + T - 1. With a cache, the new
 * k/v are written at [pos0, pos0 + T) and attention reads positions [0, pos0 + T).
 */
export function rectangleContext(rope: RopeTensors, interleaved: boolean, pos0: number, cache?: KVCache): AttentionContext {
  return {
    rope: (x) => ops.rope(x, rope.cos, rope.sin, pos0, interleaved),
    attend: (q, k, v, layer) => {
      if (!cache) return ops.attention(q, k, v);
      cache.write(layer, k, v);
      return ops.attention(q, cache.k[layer], cache.v[layer], pos0 + q.shape[1]);
    },
  };
}

export class Attention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly q_norm: RMSNorm | null = null;
  readonly k_norm: RMSNorm | null = null;
  private readonly H: number;
  private readonly KVH: number;
  private readonly hd: number;

  constructor(c: MiniMindConfig, init: InitSpec) {
    super();
    const d = c.hidden_size;
    this.H = c.num_attention_heads;
    this.KVH = c.num_key_value_heads;
    this.hd = c.head_dim;
    this.q_proj = this.registerModule('q_proj', new Linear(d, this.H * this.hd, { rng: init.rng, std: init.std }));
    this.k_proj = this.registerModule('k_proj', new Linear(d, this.KVH * this.hd, { rng: init.rng, std: init.std }));
    this.v_proj = this.registerModule('v_proj', new Linear(d, this.KVH * this.hd, { rng: init.rng, std: init.std }));
    this.o_proj = this.registerModule('o_proj', new Linear(this.H * this.hd, d, { rng: init.rng, std: init.residualStd }));
    if (c.qk_norm) {
      this.q_norm = this.registerModule('q_norm', new RMSNorm(this.hd, c.rms_norm_eps));
      this.k_norm = this.registerModule('k_norm', new RMSNorm(this.hd, c.rms_norm_eps));
    }
  }

  /** x (B, T, d) -> (B, T, d); ctx places the tokens and holds layer `layer`'s cache. */
  forward(x: Tensor, ctx: AttentionContext, layer: number): Tensor {
    const [B, T] = x.shape;
    let q = this.q_proj.forward(x).reshape([B, T, this.H, this.hd]);
    let k = this.k_proj.forward(x).reshape([B, T, this.KVH, this.hd]);
    const v = this.v_proj.forward(x).reshape([B, T, this.KVH, this.hd]);
    if (this.q_norm && this.k_norm) {
      // RMSNorm over head_dim, one weight shared by every head
      q = this.q_norm.forward(q);
      k = this.k_norm.forward(k);
    }
    const out = ctx.attend(ctx.rope(q), ctx.rope(k), v, layer);
    return this.o_proj.forward(out.reshape([B, T, this.H * this.hd]));
  }
}
