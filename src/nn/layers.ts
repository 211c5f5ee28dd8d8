// The three layers MiniMind is built from. Names match PyTorch (weight), shapes match HF.
import type { Rng } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { normalInit, kaimingUniformInit, onesInit } from './init.js';
import { Module, parameter } from './module.js';

/** y = x W^T, no bias (MiniMind has none). weight (out_features, in_features). */
export class Linear extends Module {
  readonly weight: Tensor;
  constructor(readonly inFeatures: number, readonly outFeatures: number, init: { rng: Rng; std?: number }) {
    super();
    const n = inFeatures * outFeatures;
    const data = init.std !== undefined ? normalInit(n, init.std, init.rng) : kaimingUniformInit(n, inFeatures, init.rng);
    this.weight = this.registerParameter('weight', parameter(data, [outFeatures, inFeatures]));
  }
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight);
  }
}

/** Token embedding. weight (num_embeddings, embedding_dim). */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, init: { rng: Rng; std?: number }) {
    super();
    this.weight = this.registerParameter('weight', parameter(normalInit(numEmbeddings * embeddingDim, init.std ?? 1, init.rng), [numEmbeddings, embeddingDim]));
  }
  forward(ids: Tensor): Tensor {
    return ops.embedding(ids, this.weight);
  }
}

/** RMSNorm over the last axis with a learned scale initialised to ones. */
export class RMSNorm extends Module {
  readonly weight: Tensor;
  constructor(readonly dim: number, readonly eps: number) {
    super();
    this.weight = this.registerParameter('weight', parameter(onesInit(dim), [dim]));
  }
  forward(x: Tensor): Tensor {
    return ops.rmsNorm(x, this.weight, this.eps);
  }
}
