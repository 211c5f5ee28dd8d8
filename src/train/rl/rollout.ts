// Rollouts and the training batch they become (MiniMind HEAD trainer/rollout_engine.py):
//   sampleGroups  G samples per prompt with our batched generation (ContinuousBatch: prompts of
//                 different lengths in one ragged batch, per-row KV caches); a completion keeps
//                 its end-of-turn token, so the completion mask runs up to and including it;
//   packRows      right-padded (R, L) ids and the positions whose next token is trained (the
//                 completion; in agent rollouts the tool observations in between are not);
//   scoreRows     per-token log-probs (and entropies) under a model without gradients: the
//                 policy's "old" log-probs and the frozen reference's, as MiniMind recomputes
//                 them after sampling;
//   policyLogprobs the same with autograd, for the loss.
// Right padding is exact here: attention is causal and MiniMind has no position ids, so a row's
// logits never see the pads after it.
import { noGrad } from '../../core/autograd.js';
import { scope } from '../../core/scope.js';
import { tensor, type Tensor } from '../../core/tensor.js';
import * as ops from '../../ops/index.js';
import { ContinuousBatch, type FinishReason, type SamplingParams } from '../../model/batch-generate.js';
import type { MiniMindForCausalLM } from '../../model/model.js';

export interface SamplingOptions {
  /** Samples per prompt (MiniMind: GRPO 6, agent 4). */
  numGenerations: number;
  maxNewTokens: number;
  /** MiniMind rolls out at 0.8 with top-p 0.85 and top-k 50 (its generate's defaults). */
  temperature: number;
  topP?: number;
  topK?: number;
  seed: number;
  /** The end-of-turn token (<|im_end|>). */
  eosTokenId: number;
  /**
   * Index of prompts[0] in the step's whole batch (a data-parallel rank samples its slice): sample
   * j of prompt i draws from random stream (firstPrompt + i)·G + j, as it does in one process [0].
   */
  firstPrompt?: number;
}

export interface Completion {
  /** Index of its prompt. */
  prompt: number;
  /** Generated ids, ending with the end-of-turn token when the model stopped by itself. */
  ids: number[];
  finishReason: FinishReason;
}

/** numGenerations samples of each prompt, prompt-major (completion i·G + j is sample j of prompt i). */
export function sampleGroups(policy: MiniMindForCausalLM, prompts: number[][], o: SamplingOptions): Completion[] {
  const n = o.numGenerations;
  const params = { maxNewTokens: o.maxNewTokens, temperature: o.temperature, topP: o.topP, topK: o.topK, seed: o.seed, stopTokenIds: [o.eosTokenId] };
  const out = sampleStreams(policy, prompts.map((ids, i) => ({ ids, n, firstStream: ((o.firstPrompt ?? 0) + i) * n })), params);
  return out.map((r, k) => ({ prompt: Math.floor(k / n), ids: r.finishReason === 'stop' ? [...r.ids, o.eosTokenId] : [...r.ids], finishReason: r.finishReason }));
}

/**
 * generateBatch's loop with each prompt's random streams given: its n samples draw from streams
 * firstStream.. firstStream + n − 1 of `params.seed`, so a sample's randomness does not depend on
 * which other prompts share the batch (a data-parallel rank's slice samples as one process does).
 * A sample ends ('length') where prompt + completion fill the model's context: the training
 * forward takes that row whole, one position more than generation itself needs.
 */
export function sampleStreams(policy: MiniMindForCausalLM, prompts: { ids: readonly number[]; n: number; firstStream: number }[], params: SamplingParams): { ids: number[]; finishReason: FinishReason }[] {
  const batch = new ContinuousBatch(policy, { maxBatch: Math.max(64, ...prompts.map((p) => p.n)) });
  const context = policy.config.max_position_embeddings;
  try {
    const seqs = prompts.flatMap((p) => batch.add(p.ids, { ...params, maxNewTokens: Math.max(0, Math.min(params.maxNewTokens, context - p.ids.length)) }, undefined, { n: p.n, firstStream: p.firstStream }));
    while (batch.step());
    return seqs.map((s) => s.result());
  } finally {
    batch.dispose();
  }
}

/** One training row: its tokens, and which of them are trained (the model's own output). */
export interface RowSpec {
  ids: number[];
  /** Same length as ids: 1 where ids[i] is a generated token that the loss trains. */
  trained: number[];
}

export interface PackedRows {
  R: number;
  L: number;
  /** (R, L) input ids, right-padded. */
  ids: Int32Array;
  /** (R, L): targets[r, p] = ids[r, p + 1] where that token is trained, else -100. */
  targets: Int32Array;
  /** (R, L): 1 where targets is a trained token. Position p scores token p + 1. */
  mask: Float64Array;
  /** Real tokens per row. */
  lengths: number[];
}

export function packRows(rows: RowSpec[], padId: number): PackedRows {
  const R = rows.length;
  const L = Math.max(2, ...rows.map((r) => r.ids.length));
  const ids = new Int32Array(R * L).fill(padId);
  const targets = new Int32Array(R * L).fill(-100);
  const mask = new Float64Array(R * L);
  rows.forEach((row, r) => {
    if (row.trained.length !== row.ids.length) throw new Error(`packRows: row ${r} has ${row.ids.length} ids and ${row.trained.length} mask entries`);
    for (let p = 0; p < row.ids.length; p++) ids[r * L + p] = row.ids[p];
    for (let p = 0; p + 1 < row.ids.length; p++) {
      if (row.trained[p + 1]) {
        targets[r * L + p] = row.ids[p + 1];
        mask[r * L + p] = 1;
      }
    }
  });
  return { R, L, ids, targets, mask, lengths: rows.map((r) => r.ids.length) };
}

/** GRPO rows: prompt then completion, every completion token trained. */
export function promptCompletionRows(prompts: number[][], completions: Completion[]): RowSpec[] {
  return completions.map((c) => {
    const p = prompts[c.prompt];
    return { ids: [...p, ...c.ids], trained: [...new Array(p.length).fill(0), ...new Array(c.ids.length).fill(1)] };
  });
}

/** Per-token log-probs (R·L, 0 off-target) and entropies of the predicted distribution, without gradients. */
export function scoreRows(model: MiniMindForCausalLM, b: PackedRows, withEntropy = false): { logp: Float64Array; entropy: Float64Array | null } {
  let logp!: Float64Array;
  let entropy: Float64Array | null = null;
  noGrad(() =>
    scope(() => {
      const { logits } = model.forward(tensor(b.ids, [b.R, b.L], 'int32'));
      logp = Float64Array.from(ops.logprobGather(logits, tensor(b.targets, [b.R, b.L], 'int32')).toArray() as ArrayLike<number>);
      if (withEntropy) {
        // H = −Σ p log p over the vocabulary, per position
        const ls = ops.logSoftmax(logits);
        entropy = Float64Array.from(ops.neg(ops.sum(ops.mul(ops.exp(ls), ls), -1)).toArray() as ArrayLike<number>);
      }
    }),
  );
  return { logp, entropy };
}

/** The policy's per-token log-probs (R, L) with autograd (0 off-target), and the MoE aux loss. */
export function policyLogprobs(model: MiniMindForCausalLM, b: PackedRows): { logp: Tensor; auxLoss: Tensor | null } {
  const { logits, auxLoss } = model.forward(tensor(b.ids, [b.R, b.L], 'int32'));
  return { logp: ops.logprobGather(logits, tensor(b.targets, [b.R, b.L], 'int32')), auxLoss };
}
