// Mixture-of-experts feed-forward in MiniMind's two styles (docs/minimind.md 1.6):
//   deepseek (v1 / MiniMind2): softmax gate, top-k (2), weights renormalised when k > 1, routed
//            experts + unweighted shared experts, sequence-level aux loss * aux_loss_alpha.
//   qwen3    (minimind-3):     softmax gate, top-k (1), renormalised (so the weight is 1.0), no
//            shared expert, switch-transformer aux loss * router_aux_loss_coef.
// Dispatch: gate scores stay on the device; only the top-k indices (N*k ints) come to the host to
// build per-expert row lists; each expert runs once on its rows (indexSelect), the outputs are
// scaled by their gate weights (rowScale) and scattered back in one indexAdd. The aux loss is made
// of ops (the routing counts are constants, as in PyTorch), so the gate gets its gradient.
import { tensor, zeros, type Tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { Linear, Module } from '../nn/index.js';
import type { MiniMindConfig, MoeStyle } from './config.js';
import { FeedForward, ModuleList, type InitSpec } from './layers.js';

export class MoEFeedForward extends Module {
  /** Gate weight (E, d), key `mlp.gate.weight` in both styles. */
  readonly gate: Linear;
  readonly experts: ModuleList<FeedForward>;
  readonly shared_experts: ModuleList<FeedForward> | null = null;
  private readonly style: MoeStyle;
  private readonly E: number;
  private readonly k: number;
  private readonly normTopk: boolean;
  private readonly seqAux: boolean;
  private readonly alpha: number;

  constructor(c: MiniMindConfig, init: InitSpec) {
    super();
    const d = c.hidden_size;
    this.style = c.moe_style;
    this.E = c.n_routed_experts;
    this.k = c.num_experts_per_tok;
    this.normTopk = c.norm_topk_prob;
    this.seqAux = c.seq_aux ?? true;
    this.alpha = this.style === 'deepseek' ? c.aux_loss_alpha : c.router_aux_loss_coef;
    // v1 MoEGate: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(d)); minimind-3 gate: a Linear under post_init (N(0, 0.02)).
    this.gate = this.registerModule('gate', new Linear(d, this.E, this.style === 'deepseek' ? { rng: init.rng } : { rng: init.rng, std: init.std }));
    this.experts = this.registerModule('experts', new ModuleList<FeedForward>());
    for (let e = 0; e < this.E; e++) this.experts.push(new FeedForward(d, c.intermediate_size, init));
    const nShared = this.style === 'deepseek' ? c.n_shared_experts : 0;
    if (nShared > 0) {
      this.shared_experts = this.registerModule('shared_experts', new ModuleList<FeedForward>());
      for (let s = 0; s < nShared; s++) this.shared_experts.push(new FeedForward(d, c.intermediate_size, init));
    }
  }

  /** x (B, T, d) -> y (B, T, d) and this layer's aux loss ([1], or null when not training / coefficient 0). */
  forward(x: Tensor): { y: Tensor; aux: Tensor | null } {
    const [B, T, d] = x.shape;
    const N = B * T;
    const { E, k } = this;
    const xf = x.reshape([N, d]);
    const logits = this.gate.forward(xf); // (N, E)
    const scores = ops.softmax(logits);
    const top = ops.topk(scores, k);
    top.values.dispose();
    // Normalised top-k weights: p_i / sum_topk p_j = softmax over the chosen logits (the full
    // softmax denominator cancels), which is also exactly what its gradient is.
    const w = this.normTopk && (k > 1 || this.style === 'qwen3') ? ops.softmax(ops.gather(logits, top.indices)) : ops.gather(scores, top.indices); // (N, k)
    const idx = top.indices.toArray() as Int32Array; // the one host read: N*k expert ids

    // Per-expert row lists (token rows and their (token, slot) weight index), in expert order.
    const counts = new Int32Array(E);
    for (let i = 0; i < idx.length; i++) counts[idx[i]]++;
    const starts = new Int32Array(E + 1);
    for (let e = 0; e < E; e++) starts[e + 1] = starts[e] + counts[e];
    const rows = new Int32Array(N * k);
    const slots = new Int32Array(N * k);
    const fill = starts.slice(0, E);
    for (let t = 0; t < N; t++) {
      for (let j = 0; j < k; j++) {
        const e = idx[t * k + j];
        rows[fill[e]] = t;
        slots[fill[e]] = t * k + j;
        fill[e]++;
      }
    }
    const outs: Tensor[] = [];
    for (let e = 0; e < E; e++) {
      if (counts[e] === 0) continue;
      const r = tensor(rows.subarray(starts[e], starts[e + 1]), [counts[e]], 'int32', x.backend);
      outs.push(this.experts.items[e].forward(ops.indexSelect(xf, r)));
    }
    const routed = outs.length === 1 ? outs[0] : ops.concat(outs, 0); // (N*k, d), expert order
    const wRows = ops.indexSelect(w.reshape([N * k, 1]), tensor(slots, [N * k], 'int32', x.backend)).reshape([N * k]);
    const scaled = ops.rowScale(routed, wRows);
    let base: Tensor;
    if (this.shared_experts) {
      base = this.shared_experts.items[0].forward(xf);
      for (let s = 1; s < this.shared_experts.length; s++) base = ops.add(base, this.shared_experts.items[s].forward(xf));
    } else {
      base = zeros([N, d], x.dtype, x.backend);
    }
    const y = ops.indexAdd(base, tensor(rows, [N * k], 'int32', x.backend), scaled).reshape([B, T, d]);

    let aux: Tensor | null = null;
    if (this.training && this.alpha > 0) aux = this.auxLoss(scores, idx, B, T);
    return { y, aux };
  }

  /** Aux loss from scores (N, E) and the host top-k ids; routing counts are constants. */
  private auxLoss(scores: Tensor, idx: Int32Array, B: number, T: number): Tensor {
    const { E, k, alpha } = this;
    const N = B * T;
    if (this.style === 'deepseek' && this.seqAux) {
      // ce[b, e] = count_b(e) / (T k / E);  aux = mean_b sum_e ce[b, e] * mean_t scores[b, t, e] * alpha
      const coef = new Float32Array(B * E);
      for (let b = 0; b < B; b++) for (let i = b * T * k; i < (b + 1) * T * k; i++) coef[b * E + idx[i]] += 1;
      for (let i = 0; i < coef.length; i++) coef[i] = (coef[i] / ((T * k) / E)) * (alpha / (T * B));
      const perSeq = ops.sum(scores.reshape([B, T, E]), 1); // (B, E)
      return ops.sum(ops.mul(perSeq, tensor(coef, [B, E], scores.dtype, scores.backend)));
    }
    const count = new Float32Array(E);
    for (let i = 0; i < idx.length; i++) count[idx[i]] += 1;
    const coef = new Float32Array(E);
    for (let e = 0; e < E; e++) {
      // deepseek, token level: fi = E * count / (N k); aux = sum_e mean(scores)[e] * fi * alpha
      // qwen3: load[j, e] = count_j(e) / N; aux = sum_{j,e} load * mean(scores)[e] * E * alpha
      coef[e] = this.style === 'deepseek' ? ((E * count[e]) / (N * k)) * (alpha / N) : (count[e] / N) * ((E * alpha) / N);
    }
    const total = ops.sum(scores, 0); // (E)
    return ops.sum(ops.mul(total, tensor(coef, [E], scores.dtype, scores.backend)));
  }
}
