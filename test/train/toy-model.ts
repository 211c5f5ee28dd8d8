// A toy causal LM for trainer tests that do not need the real MiniMind model: each position's
// logits depend on the current token and the previous one (embedding + linear), so it can learn
// a little and trains in milliseconds on the js backend.
import { Rng } from '../../src/core/random.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import * as ops from '../../src/ops/index.js';
import { Embedding, Linear, Module } from '../../src/nn/index.js';

export class ToyLM extends Module {
  readonly embed_tokens: Embedding;
  readonly lm_head: Linear;
  constructor(readonly vocab: number, readonly dim: number, seed = 1) {
    super();
    const rng = new Rng(seed);
    this.embed_tokens = this.registerModule('embed_tokens', new Embedding(vocab, dim, { rng, std: 0.5 }));
    this.lm_head = this.registerModule('lm_head', new Linear(dim, vocab, { rng, std: 0.1 }));
  }
  /** ids (B, T) int32 host -> logits (B, T, V). */
  forward(ids: Int32Array, B: number, T: number): Tensor {
    const x = this.embed_tokens.forward(tensor(ids, [B, T], 'int32'));
    return this.lm_head.forward(x);
  }
}
