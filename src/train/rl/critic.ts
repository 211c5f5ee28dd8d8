// PPO's critic (MiniMind HEAD train_ppo.py CriticModel): the language model's body, initialised
// from the same weights as the policy, with a value head Linear(hidden, 1) (bias included) in place
// of lm_head. MiniMind applies model.norm once more to the already-normalised hidden states; we
// keep that quirk so values match its critic.
// The head is one (1, d + 1) parameter: the weight row followed by the bias, applied to the hidden
// state with a constant 1 appended — the same function as Linear(d, 1) with bias, without a
// broadcasting add op.
import { Rng } from '../../core/random.js';
import { full, tensor, type Tensor } from '../../core/tensor.js';
import * as ops from '../../ops/index.js';
import { parameter } from '../../nn/module.js';
import type { MiniMindForCausalLM } from '../../model/model.js';

export class Critic {
  /** value_head: (1, d + 1) = [weight | bias]. */
  readonly valueHead: Tensor;

  constructor(readonly body: MiniMindForCausalLM, seed = 42) {
    const d = body.config.hidden_size;
    // PyTorch's nn.Linear default: weight and bias ~ U(-1/sqrt(d), 1/sqrt(d))
    const rng = new Rng(seed);
    const bound = 1 / Math.sqrt(d);
    const w = new Float32Array(d + 1);
    for (let i = 0; i <= d; i++) w[i] = (2 * rng.next() - 1) * bound;
    this.valueHead = parameter(w, [1, d + 1]);
  }

  /** The trainable parameters with checkpoint names (the body's lm_head is never used). */
  namedParameters(): [string, Tensor][] {
    return [...this.body.namedParameters().filter(([n, t]) => t.requiresGrad && !n.startsWith('lm_head')), ['value_head', this.valueHead]];
  }

  /** ids (B, T) int32 -> values (B, T), with autograd when enabled. */
  values(ids: Tensor): { values: Tensor; auxLoss: Tensor | null } {
    const [B, T] = ids.shape;
    const { hidden, auxLoss } = this.body.hiddenStates(ids);
    const h = this.body.model.norm.forward(hidden); // MiniMind's second norm
    const ones = full([B, T, 1], 1, h.dtype, h.backend);
    const v = ops.linear(ops.concat([h, ones], 2), this.valueHead); // (B, T, 1)
    return { values: v.reshape([B, T]), auxLoss };
  }

  /** Host values of packed ids, without gradients. */
  valuesHost(ids: Int32Array, B: number, T: number): Float64Array {
    return Float64Array.from(this.values(tensor(ids, [B, T], 'int32')).values.toArray() as ArrayLike<number>);
  }
}
