// MiniMind's DeepSeek-style MoE (v1-moe, minimind2-moe) as transformers' Qwen2MoeForCausalLM, which
// computes the same function with no custom code:
//   MiniMind:  y = sum_topk w_i · expert_i(x) + sum_s shared_s(x)
//   Qwen2MoE:  y = sum_topk w_i · expert_i(x) + sigmoid(shared_expert_gate · x) · shared_expert(x)
// S shared experts are one shared expert S times as wide (gate/up rows and down columns
// concatenated: the sum over experts is the sum over the wider hidden layer). The gate is written
// as zeros, so sigmoid gives exactly 0.5, and down_proj is stored doubled: 0.5 · (2W)h = Wh
// exactly in floating point (scaling by a power of two is exact). Loading undoes both, and
// refuses a non-zero gate (a gated shared expert, as in Qwen1.5-MoE, is not MiniMind's).
// Routing: softmax, top-k, renormalised when norm_topk_prob (MiniMind renormalises only when k > 1).
import type { MiniMindConfig } from '../model/config.js';
import { toFloat32, type HostTensor } from './safetensors.js';

type F32Tensor = { shape: number[]; data: Float32Array };

/** True when a config is saved as Qwen2MoeForCausalLM. */
export function isQwen2MoeLike(c: MiniMindConfig): boolean {
  return c.use_moe && c.moe_style === 'deepseek' && !c.qk_norm && c.n_shared_experts > 0;
}

/** Qwen2MoE config.json fields (besides the common ones) for a DeepSeek-style MoE config. */
export function qwen2MoeConfigFields(c: MiniMindConfig): Record<string, unknown> {
  return {
    model_type: 'qwen2_moe', qkv_bias: false, use_sliding_window: false, sliding_window: null, max_window_layers: c.num_hidden_layers,
    num_experts: c.n_routed_experts, num_experts_per_tok: c.num_experts_per_tok, moe_intermediate_size: c.intermediate_size,
    shared_expert_intermediate_size: c.n_shared_experts * c.intermediate_size,
    norm_topk_prob: c.norm_topk_prob && c.num_experts_per_tok > 1, decoder_sparse_step: 1, mlp_only_layers: [],
    router_aux_loss_coef: c.aux_loss_alpha, output_router_logits: false,
    // Not read by transformers; keeps MiniMind's aux-loss flavour across a round trip.
    minimind_seq_aux: c.seq_aux,
  };
}

/** Our config fields from a Qwen2MoE config.json (problems appended). */
export function configFieldsFromQwen2Moe(j: Record<string, unknown>, where: string, problems: string[]): Record<string, unknown> {
  const F = (j.moe_intermediate_size ?? j.intermediate_size) as number;
  const shared = j.shared_expert_intermediate_size as number;
  const S = shared / F;
  if (!Number.isInteger(S) || S < 1) problems.push(`${where}: shared_expert_intermediate_size ${shared} is not a whole number of experts of moe_intermediate_size ${F}`);
  const k = j.num_experts_per_tok as number;
  if (k === 1 && j.norm_topk_prob === true) problems.push(`${where}: norm_topk_prob with one expert per token (weight always 1) is not MiniMind's routing`);
  if (Array.isArray(j.mlp_only_layers) && j.mlp_only_layers.length > 0) problems.push(`${where}: mlp_only_layers (dense layers inside an MoE model) are not supported`);
  if (j.decoder_sparse_step !== undefined && j.decoder_sparse_step !== 1) problems.push(`${where}: decoder_sparse_step ${String(j.decoder_sparse_step)} is not supported (every layer must be MoE)`);
  if (j.qkv_bias !== false) problems.push(`${where}: qkv_bias must be false (MiniMind has no biases)`);
  return {
    use_moe: true, moe_style: 'deepseek', n_routed_experts: j.num_experts, num_experts_per_tok: k, n_shared_experts: S,
    intermediate_size: F, norm_topk_prob: j.norm_topk_prob ?? false,
    aux_loss_alpha: j.router_aux_loss_coef ?? 0.01, seq_aux: j.minimind_seq_aux ?? true,
  };
}

/** Our tensors -> Qwen2MoE's: shared_experts.{s} folded into one shared_expert (down doubled) + a zero gate. */
export function toQwen2MoeTensors(tensors: Map<string, F32Tensor>, c: MiniMindConfig): Map<string, F32Tensor> {
  const out = new Map<string, F32Tensor>();
  for (const [k, t] of tensors) if (!k.includes('.mlp.shared_experts.')) out.set(k, t);
  const S = c.n_shared_experts;
  const F = c.intermediate_size;
  const d = c.hidden_size;
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.mlp`;
    const get = (s: number, proj: string) => {
      const t = tensors.get(`${p}.shared_experts.${s}.${proj}.weight`);
      if (!t) throw new Error(`Qwen2MoE layout: missing ${p}.shared_experts.${s}.${proj}.weight`);
      return t.data;
    };
    for (const proj of ['gate_proj', 'up_proj']) {
      const w = new Float32Array(S * F * d); // (S*F, d): rows stacked
      for (let s = 0; s < S; s++) w.set(get(s, proj), s * F * d);
      out.set(`${p}.shared_expert.${proj}.weight`, { shape: [S * F, d], data: w });
    }
    const down = new Float32Array(d * S * F); // (d, S*F): columns side by side, doubled
    for (let s = 0; s < S; s++) {
      const w = get(s, 'down_proj');
      for (let r = 0; r < d; r++) for (let j = 0; j < F; j++) down[r * S * F + s * F + j] = 2 * w[r * F + j];
    }
    out.set(`${p}.shared_expert.down_proj.weight`, { shape: [d, S * F], data: down });
    out.set(`${p}.shared_expert_gate.weight`, { shape: [1, d], data: new Float32Array(d) });
  }
  return out;
}

/** Qwen2MoE tensors -> ours (the inverse of toQwen2MoeTensors); a non-zero shared_expert_gate is an error. */
export function fromQwen2MoeTensors(tensors: Map<string, HostTensor>, c: MiniMindConfig): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  const S = c.n_shared_experts;
  const F = c.intermediate_size;
  const d = c.hidden_size;
  for (const [k, t] of tensors) {
    const m = /^(.*\.mlp)\.shared_expert(_gate)?\.(?:(gate_proj|up_proj|down_proj)\.)?weight$/.exec(k);
    if (!m) { out.set(k, t); continue; }
    const v = toFloat32(t);
    if (m[2]) {
      if (v.some((x) => x !== 0)) throw new Error(`${k} is not zero: a gated shared expert (Qwen1.5-MoE style) is not MiniMind's MoE`);
      continue;
    }
    for (let s = 0; s < S; s++) {
      const name = `${m[1]}.shared_experts.${s}.${m[3]}.weight`;
      if (m[3] !== 'down_proj') out.set(name, { dtype: 'F32', shape: [F, d], data: v.slice(s * F * d, (s + 1) * F * d) });
      else {
        const w = new Float32Array(d * F);
        for (let r = 0; r < d; r++) for (let j = 0; j < F; j++) w[r * F + j] = 0.5 * v[r * S * F + s * F + j];
        out.set(name, { dtype: 'F32', shape: [d, F], data: w });
      }
    }
  }
  return out;
}
