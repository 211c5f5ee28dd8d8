// The training objectives, written with the engine's differentiable ops. Shapes: B = batch rows,
// T = time, V = vocabulary. Labels come from the data pipeline as (B, T) with -100 where a token
// is not a target; like HF, position t predicts labels[t + 1], so targets are labels shifted left.
import { tensor, Tensor } from '../core/tensor.js';
import { noGrad } from '../core/autograd.js';
import * as ops from '../ops/index.js';
import { IGNORE_INDEX, shiftLabels } from '../model/labels.js';

/** Mean next-token cross-entropy over the target positions. logits (B, T, V) -> scalar. */
export function causalLmLoss(logits: Tensor, labels: Int32Array, B: number, T: number): Tensor {
  const shifted = shiftLabels(labels, B, T);
  return ops.crossEntropy(logits, tensor(shifted, [B, T], 'int32', logits.backend), { targetsHost: shifted });
}

/**
 * Per-row log-probability of the target tokens: logits (R, T, V) -> (R), summed over the
 * targets (minimind-3) or averaged (minimind2, issue #298).
 */
export function sequenceLogprobs(logits: Tensor, labels: Int32Array, R: number, T: number, reduce: 'sum' | 'mean'): Tensor {
  const shifted = shiftLabels(labels, R, T);
  const lp = ops.logprobGather(logits, tensor(shifted, [R, T], 'int32', logits.backend)); // (R, T), 0 off-target
  const perRow = ops.sum(lp, 1); // (R)
  if (reduce === 'sum') return perRow;
  const inv = new Float32Array(R);
  for (let r = 0; r < R; r++) {
    let n = 0;
    for (let t = 0; t < T; t++) if (shifted[r * T + t] !== IGNORE_INDEX) n++;
    inv[r] = 1 / Math.max(n, 1);
  }
  return ops.mul(perRow, tensor(perRow.dtype === 'float64' ? Float64Array.from(inv) : inv, [R], perRow.dtype, perRow.backend));
}

export interface DpoResult {
  loss: Tensor;
  /** Fraction of pairs where the implicit reward prefers chosen. */
  rewardAcc: number;
  /** Mean of β·[(π_c − π_r) − (ref_c − ref_r)]. */
  margin: number;
}

/**
 * DPO: −log σ(β·[(π_c − π_r) − (ref_c − ref_r)]), mean over pairs. policy (2B) with chosen rows
 * first, then rejected rows; ref the same from the frozen reference model (host numbers).
 */
export function dpoLoss(policy: Tensor, ref: Tensor | ArrayLike<number>, beta: number): DpoResult {
  const B = policy.size / 2;
  const chosen = ops.slice(policy, 0, 0, B);
  const rejected = ops.slice(policy, 0, B, B);
  // the reference's chosen − rejected scores, on the policy's backend (no host copy of a device tensor)
  const rd = noGrad(() => {
    const r = ref instanceof Tensor ? ref : tensor(policy.dtype === 'float64' ? Float64Array.from(ref) : Float32Array.from(ref), [2 * B], policy.dtype, policy.backend);
    return ops.sub(ops.slice(r, 0, 0, B), ops.slice(r, 0, B, B));
  });
  const logits = ops.scale(ops.sub(ops.sub(chosen, rejected), rd), beta); // (B)
  const loss = ops.neg(ops.mean(ops.logSigmoid(logits)));
  const lv = logits.toArray();
  let acc = 0;
  let margin = 0;
  for (let i = 0; i < B; i++) {
    if (lv[i] > 0) acc++;
    margin += lv[i];
  }
  return { loss, rewardAcc: acc / B, margin: margin / B };
}

export interface DistillResult {
  /** α·CE + (1 − α)·T²·KL, the value MiniMind logs as `loss` (without the MoE aux term). */
  loss: Tensor;
  /** CE over the target positions (MiniMind's `ce_loss_raw`). */
  ce: number;
  /** T²·KL, KL as F.kl_div(log_softmax(s/T), softmax(t/T), 'batchmean') over the target rows (MiniMind's `distill_loss`). */
  distill: number;
}

/**
 * White-box distillation (MiniMind HEAD train_distillation): over positions with a target,
 * α·CE(student, labels) + (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T)), KL averaged
 * over those positions ('batchmean' of the masked rows). teacher: host logits (B, T, Vt); only
 * the first V (the student's vocabulary) are used. The KL is summed as F.kl_div sums it,
 * Σ p·(log p − log q) element by element: written as Σ p log p − Σ p log q it is the difference
 * of two sums near −n·ln V, and in float32 that cancellation cost ~1e-4 of the logged value.
 */
export function distillLoss(student: Tensor, teacher: Tensor | ArrayLike<number>, teacherVocab: number, labels: Int32Array, B: number, T: number, temperature: number, alpha: number): DistillResult {
  const V = student.shape[student.shape.length - 1];
  if (teacherVocab < V) throw new Error(`distillation: the teacher's vocabulary (${teacherVocab}) is smaller than the student's (${V})`);
  const shifted = shiftLabels(labels, B, T);
  const targetRows = new Float32Array(B * T);
  let rows = 0;
  for (let r = 0; r < B * T; r++) if (shifted[r] !== IGNORE_INDEX) { targetRows[r] = 1; rows++; }
  const n = Math.max(rows, 1);
  // log p = log_softmax(teacher[..., :V] / T), p = its exp on target rows and 0 elsewhere. On the
  // teacher's backend: on a GPU the (B, T, V) logits never leave it.
  const { P, logP } = noGrad(() => {
    const host = (x: ArrayLike<number>) => (student.dtype === 'float64' ? Float64Array.from(x) : Float32Array.from(x));
    const t = teacher instanceof Tensor ? teacher : tensor(host(teacher), [B, T, teacherVocab], student.dtype, student.backend);
    const tv = teacherVocab > V ? ops.slice(t, 2, 0, V) : t;
    const logp = ops.logSoftmax(ops.scale(tv, 1 / temperature));
    const P = ops.rowScale(ops.unary('exp', logp.reshape([B * T, V])), tensor(host(targetRows), [B * T], student.dtype, student.backend));
    return { P: P.reshape(student.shape), logP: logp.reshape(student.shape) };
  });
  const logq = ops.logSoftmax(ops.scale(student, 1 / temperature)); // (B, T, V)
  // Σ p·(log p − log q) / n, each row summed first (a float32 sum of B·T·V terms in one pass drifts ~1e-6)
  const kl = ops.scale(ops.sum(ops.sum(ops.mul(P, ops.sub(logP, logq)), -1)), 1 / n);
  const distill = ops.scale(kl, temperature * temperature);
  const ce = causalLmLoss(student, labels, B, T);
  const weighted = ops.scale(distill, 1 - alpha);
  const loss = alpha > 0 ? ops.add(ops.scale(ce, alpha), weighted) : weighted;
  return { loss, ce: ce.item(), distill: distill.item() };
}
