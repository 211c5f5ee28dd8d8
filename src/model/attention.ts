// MiniMind self-attention (spec 1.1, 1.5): q/k/v projections, optional QK-norm (minimind-3),
// RoPE at the current position offset, causal GQA, o_proj. With a KV cache the new k/v are
// written into the cache's preallocated buffers and attention reads the filled prefix.
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
  private readonly interleaved: boolean;

  constructor(c: MiniMindConfig, init: InitSpec) {
    super();
    const d = c.hidden_size;
    this.H = c.num_attention_heads;
    this.KVH = c.num_key_value_heads;
    this.hd = c.head_dim;
    this.interleaved = c.rope_interleaved ?? false;
    this.q_proj = this.registerModule('q_proj', new Linear(d, this.H * this.hd, { rng: init.rng, std: init.std }));
    this.k_proj = this.registerModule('k_proj', new Linear(d, this.KVH * this.hd, { rng: init.rng, std: init.std }));
    this.v_proj = this.registerModule('v_proj', new Linear(d, this.KVH * this.hd, { rng: init.rng, std: init.std }));
    this.o_proj = this.registerModule('o_proj', new Linear(this.H * this.hd, d, { rng: init.rng, std: init.residualStd }));
    if (c.qk_norm) {
      this.q_norm = this.registerModule('q_norm', new RMSNorm(this.hd, c.rms_norm_eps));
      this.k_norm = this.registerModule('k_norm', new RMSNorm(this.hd, c.rms_norm_eps));
    }
  }

  /** x (B, T, d) at positions pos0 .. pos0+T-1 -> (B, T, d). cache: the layer's slot in a KV cache. */
  forward(x: Tensor, rope: RopeTensors, pos0: number, cache?: { cache: KVCache; layer: number }): Tensor {
    const [B, T] = x.shape;
    let q = this.q_proj.forward(x).reshape([B, T, this.H, this.hd]);
    let k = this.k_proj.forward(x).reshape([B, T, this.KVH, this.hd]);
    const v = this.v_proj.forward(x).reshape([B, T, this.KVH, this.hd]);
    if (this.q_norm && this.k_norm) {
      // RMSNorm over head_dim, one weight shared by every head
      q = this.q_norm.forward(q);
      k = this.k_norm.forward(k);
    }
    q = ops.rope(q, rope.cos, rope.sin, pos0, this.interleaved);
    k = ops.rope(k, rope.cos, rope.sin, pos0, this.interleaved);
    let out: Tensor;
    if (cache) {
      cache.cache.write(cache.layer, k, v);
      out = ops.attention(q, cache.cache.k[cache.layer], cache.cache.v[cache.layer], pos0 + T);
    } else {
      out = ops.attention(q, k, v);
    }
    return this.o_proj.forward(out.reshape([B, T, this.H * this.hd]));
  }
}
