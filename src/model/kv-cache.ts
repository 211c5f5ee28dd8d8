// The KV cache for incremental decoding: per layer, k and v of shape (B, capacity, KVH, D), post
// QK-norm and post RoPE (as MiniMind caches them), of which the first `length` positions are
// filled. A forward with the cache writes its new positions at [length, length + T) and attends
// over the first length + T; the model then advances `length`. Capacity grows by doubling (up to
// max_position_embeddings), so a short chat does not reserve 32k positions per layer.
import { zeros, type Tensor } from '../core/tensor.js';
import { getBackend } from '../core/device.js';
import type { Backend } from '../backends/backend.js';

export class KVCache {
  /** Filled positions (the position of the next token). */
  length = 0;
  readonly k: Tensor[] = [];
  readonly v: Tensor[] = [];
  private cap: number;

  constructor(
    readonly batch: number,
    readonly numLayers: number,
    readonly numKvHeads: number,
    readonly headDim: number,
    initialCapacity: number,
    /** Hard limit: the model's max_position_embeddings. */
    readonly maxLength: number,
    readonly backend: Backend = getBackend(),
  ) {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`KVCache: batch must be a positive integer, got ${batch}`);
    this.cap = Math.max(1, Math.min(initialCapacity, maxLength));
    for (let l = 0; l < numLayers; l++) {
      this.k.push(this.alloc(this.cap));
      this.v.push(this.alloc(this.cap));
    }
  }

  get capacity(): number {
    return this.cap;
  }

  private alloc(cap: number): Tensor {
    return zeros([this.batch, cap, this.numKvHeads, this.headDim], 'float32', this.backend).keep();
  }

  /** Makes room for `needed` positions in total (grows by doubling, copying the filled part). */
  reserve(needed: number): void {
    if (needed > this.maxLength) throw new Error(`KV cache: ${needed} positions exceed max_position_embeddings (${this.maxLength})`);
    if (needed <= this.cap) return;
    let cap = this.cap;
    while (cap < needed) cap *= 2;
    cap = Math.min(cap, this.maxLength);
    const inner = this.numKvHeads * this.headDim;
    for (const list of [this.k, this.v]) {
      for (let l = 0; l < list.length; l++) {
        const old = list[l];
        const grown = this.alloc(cap);
        // grown[:, 0:length] = old[:, 0:length]
        if (this.length > 0) {
          const head = zeros([this.batch, this.length, this.numKvHeads, this.headDim], 'float32', this.backend);
          this.backend.sliceCopy(head.buf, old.buf, this.batch, this.cap, inner, 0, this.length, false);
          this.backend.sliceScatter(grown.buf, head.buf, this.batch, cap, inner, 0, this.length, false);
          head.dispose();
        }
        old.dispose();
        list[l] = grown;
      }
    }
    this.cap = cap;
  }

  /** Writes k/v (B, T, KVH, D) of layer `layer` at positions [length, length + T) (no autograd). */
  write(layer: number, k: Tensor, v: Tensor): void {
    const T = k.shape[1];
    const inner = this.numKvHeads * this.headDim;
    if (k.shape[0] !== this.batch) throw new Error(`KV cache: batch ${k.shape[0]} does not match the cache's ${this.batch}`);
    this.backend.sliceScatter(this.k[layer].buf, k.buf, this.batch, this.cap, inner, this.length, T, false);
    this.backend.sliceScatter(this.v[layer].buf, v.buf, this.batch, this.cap, inner, this.length, T, false);
  }

  /**
   * An independent copy (same filled positions, same capacity): n samples of one prompt prefill it
   * once and fork the cache, instead of running the prompt n times.
   */
  fork(): KVCache {
    const c = new KVCache(this.batch, this.numLayers, this.numKvHeads, this.headDim, this.cap, this.maxLength, this.backend);
    const inner = this.numKvHeads * this.headDim;
    for (let l = 0; l < this.numLayers; l++) {
      // the whole (B, cap, inner) buffer: a slice of every position is a plain copy
      this.backend.sliceCopy(c.k[l].buf, this.k[l].buf, this.batch, this.cap, inner, 0, this.cap, false);
      this.backend.sliceCopy(c.v[l].buf, this.v[l].buf, this.batch, this.cap, inner, 0, this.cap, false);
    }
    c.length = this.length;
    return c;
  }

  /** Forgets positions from n on (e.g. to re-use a shared prompt prefix). */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.length) throw new Error(`KV cache: cannot truncate to ${n} (length ${this.length})`);
    this.length = n;
  }

  reset(): void {
    this.length = 0;
  }

  dispose(): void {
    for (const t of [...this.k, ...this.v]) t.dispose();
    this.k.length = 0;
    this.v.length = 0;
  }
}
