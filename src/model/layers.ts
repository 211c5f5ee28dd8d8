// Small building blocks of the MiniMind model: a numbered module list (HF `layers.0`,
// `experts.3`) and the SwiGLU feed-forward (`gate_proj`, `up_proj`, `down_proj`; v1's w1/w3/w2).
import type { Rng } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { Linear, Module } from '../nn/index.js';

/** Children named 0, 1, 2 ... as torch.nn.ModuleList. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[] = [];
  push(m: M): M {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return m;
  }
  get length(): number {
    return this.items.length;
  }
}

/** Initialisation of MiniMind v1: N(0, std) for projections, `residualStd` for the re-initialised ones. */
export interface InitSpec {
  rng: Rng;
  std: number;
  /** v1 `_init_weights`: w3 (up_proj) and wo (o_proj) get std 0.02 / sqrt(2 * n_layers). */
  residualStd: number;
}

/** down(silu(gate(x)) * up(x)); x (..., d) -> (..., d). */
export class FeedForward extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;
  constructor(d: number, f: number, init: InitSpec) {
    super();
    this.gate_proj = this.registerModule('gate_proj', new Linear(d, f, { rng: init.rng, std: init.std }));
    this.up_proj = this.registerModule('up_proj', new Linear(d, f, { rng: init.rng, std: init.residualStd }));
    this.down_proj = this.registerModule('down_proj', new Linear(f, d, { rng: init.rng, std: init.std }));
  }
  forward(x: Tensor): Tensor {
    return this.down_proj.forward(ops.swiglu(this.gate_proj.forward(x), this.up_proj.forward(x)));
  }
}
