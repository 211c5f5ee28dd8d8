// The RL objectives of MiniMind HEAD (docs/minimind.md 5.4), as host arithmetic on per-token log-probs.
//
// Layout: R rows (sequences), T completion positions, row-major (R·T) arrays; mask[r·T + t] = 1 on
// the tokens that are trained. `logp` are the policy's log-probs of the sampled tokens (the only
// thing that carries gradient), `oldLogp` the same at sampling time, `refLogp` the frozen
// reference model's. Every loss returns its value and d loss / d logp per token, so the
// stage applies it with one autograd node (see logprobLoss in policy-loss.ts): min, clamp and
// stop-gradient are elementwise on an (R, T) array that is tiny next to the (R, T, V) logits.
// Gradients follow PyTorch's conventions at the kinks: torch.min splits a tie evenly between its
// inputs, and torch.clamp passes the gradient at its bounds.

export type PolicyLossType = 'grpo' | 'cispo';

/** Group-relative advantages: A = (r − mean_g) / (std_g + eps), population std (unbiased=False). */
export function groupAdvantages(rewards: ArrayLike<number>, groupSize: number, eps = 1e-4): Float64Array {
  const n = rewards.length;
  if (!Number.isInteger(groupSize) || groupSize < 1 || n % groupSize !== 0) throw new Error(`groupAdvantages: ${n} rewards do not split into groups of ${groupSize}`);
  const out = new Float64Array(n);
  for (let g = 0; g < n; g += groupSize) {
    let mean = 0;
    for (let i = g; i < g + groupSize; i++) mean += rewards[i];
    mean /= groupSize;
    let v = 0;
    for (let i = g; i < g + groupSize; i++) v += (rewards[i] - mean) ** 2;
    const std = Math.sqrt(v / groupSize);
    for (let i = g; i < g + groupSize; i++) out[i] = (rewards[i] - mean) / (std + eps);
  }
  return out;
}

/** k3 estimator of KL(π ‖ ref) per token: exp(ref − π) − (ref − π) − 1 (≥ 0, 0 when equal). */
export function k3Kl(refLogp: number, logp: number): number {
  const d = refLogp - logp;
  return Math.exp(d) - d - 1;
}

export interface TokenBatch {
  R: number;
  T: number;
  logp: ArrayLike<number>;
  oldLogp: ArrayLike<number>;
  refLogp: ArrayLike<number>;
  mask: ArrayLike<number>;
}

export interface GrpoLossOptions {
  loss: PolicyLossType;
  /** KL coefficient β (MiniMind 0.1). */
  beta: number;
  /** GRPO clip ε (0.2). */
  epsilon?: number;
  /** CISPO's cap on the importance weight (ε_high = 5.0). */
  epsilonHigh?: number;
  /**
   * Rows without a trained token: GRPO counts them in the batch mean (their loss is 0, the
   * per-row denominator is clamped to 1); agent RL leaves them out (`valid_rows`).
   */
  skipEmptyRows?: boolean;
}

export interface LossWithGrad {
  loss: number;
  /** d loss / d logp, (R·T), 0 off the mask. */
  grad: Float64Array;
  /** Per-token loss before the mask (for tests against other implementations). */
  perToken: Float64Array;
  stats: { kl: number; clipFraction: number; meanRatio: number };
}

/**
 * GRPO / CISPO (train_grpo.py): per token
 *   grpo:  −(min(ρ·A, clip(ρ, 1−ε, 1+ε)·A) − β·KL)     ρ = exp(π − π_old)
 *   cispo: −(sg(min(ρ, ε_high))·A·π − β·KL)
 * then the masked mean over each row's tokens, then the mean over rows.
 */
export function grpoLoss(b: TokenBatch, advantages: ArrayLike<number>, o: GrpoLossOptions): LossWithGrad {
  const { R, T } = b;
  const eps = o.epsilon ?? 0.2;
  const epsHigh = o.epsilonHigh ?? 5.0;
  const perToken = new Float64Array(R * T);
  const grad = new Float64Array(R * T);
  const rowGrad = new Float64Array(R * T);
  let loss = 0;
  let rows = 0;
  let klSum = 0;
  let clipped = 0;
  let ratioSum = 0;
  let tokens = 0;
  for (let r = 0; r < R; r++) {
    const A = advantages[r];
    let n = 0;
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const i = r * T + t;
      const pi = b.logp[i];
      const d = b.refLogp[i] - pi;
      const kl = Math.exp(d) - d - 1;
      const dKl = 1 - Math.exp(d); // d KL / d π
      const ratio = Math.exp(pi - b.oldLogp[i]);
      let l: number;
      let g: number;
      let isClipped = false;
      if (o.loss === 'cispo') {
        const c = Math.min(ratio, epsHigh);
        isClipped = ratio > epsHigh && A > 0;
        l = -(c * A * pi - o.beta * kl);
        g = -c * A + o.beta * dKl;
      } else {
        const clippedRatio = Math.min(Math.max(ratio, 1 - eps), 1 + eps);
        const l1 = ratio * A;
        const l2 = clippedRatio * A;
        const inside = ratio >= 1 - eps && ratio <= 1 + eps; // clamp passes the gradient at its bounds
        const g1 = A * ratio;
        const g2 = inside ? A * ratio : 0;
        const gMin = l1 < l2 ? g1 : l1 > l2 ? g2 : 0.5 * (g1 + g2);
        isClipped = (ratio < 1 - eps && A < 0) || (ratio > 1 + eps && A > 0);
        l = -(Math.min(l1, l2) - o.beta * kl);
        g = -gMin + o.beta * dKl;
      }
      perToken[i] = l;
      const m = b.mask[i];
      if (m) {
        sum += l * m;
        rowGrad[i] = g * m;
        n += m;
        klSum += kl * m;
        ratioSum += ratio * m;
        if (isClipped) clipped += m;
        tokens += m;
      }
    }
    if (n === 0 && o.skipEmptyRows) continue;
    rows++;
    const denom = Math.max(n, 1);
    loss += sum / denom;
    for (let t = 0; t < T; t++) grad[r * T + t] = rowGrad[r * T + t] / denom;
  }
  if (rows > 0) {
    loss /= rows;
    for (let i = 0; i < grad.length; i++) grad[i] /= rows;
  }
  const tk = Math.max(tokens, 1);
  return { loss, grad, perToken, stats: { kl: klSum / tk, clipFraction: clipped / tk, meanRatio: ratioSum / tk } };
}

// ---- PPO (train_ppo.py) ----

/**
 * GAE as train_ppo.py computes it over the response tokens: values are masked first, the
 * scalar reward sits on each row's last response token (the caller puts it in `rewards`);
 * δ_t = r_t + γ·V_{t+1} − V_t, A_t = δ_t + γλ·A_{t+1}; returns = A + V.
 */
export function gae(rewards: ArrayLike<number>, values: ArrayLike<number>, mask: ArrayLike<number>, R: number, T: number, gamma: number, lam: number): { advantages: Float64Array; returns: Float64Array } {
  const advantages = new Float64Array(R * T);
  const returns = new Float64Array(R * T);
  for (let r = 0; r < R; r++) {
    let last = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = r * T + t;
      const v = values[i] * mask[i];
      const nextValue = t + 1 < T ? values[i + 1] * mask[i + 1] : 0;
      const delta = rewards[i] + gamma * nextValue - v;
      last = delta + gamma * lam * last;
      advantages[i] = last;
      returns[i] = last + v;
    }
  }
  return { advantages, returns };
}

/** train_ppo.py's whitening: (A − mean) / sqrt(var + 1e-8) over the masked tokens (population variance), times the mask. */
export function whitenAdvantages(a: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  let n = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i] * mask[i];
    n += mask[i];
  }
  const denom = Math.max(n, 1);
  const mean = s / denom;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2 * mask[i];
  const inv = 1 / Math.sqrt(v / denom + 1e-8);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] - mean) * inv * mask[i];
  return out;
}

export interface PpoPolicyLoss extends LossWithGrad {
  /** mean(0.5·(π − π_old)²) over the masked tokens: the early-stop signal. */
  approxKl: number;
}

/**
 * PPO's actor loss (train_ppo.py), over all masked tokens of a minibatch:
 *   masked_mean(max(−A·ρ, −A·clip(ρ, 1±ε))) + klCoef · masked_mean(k3 KL to the reference)
 * with per-token advantages A (R·T).
 */
export function ppoPolicyLoss(b: TokenBatch, advantages: ArrayLike<number>, clipEpsilon: number, klCoef: number): PpoPolicyLoss {
  const N = b.R * b.T;
  let n = 0;
  for (let i = 0; i < N; i++) n += b.mask[i];
  const denom = Math.max(n, 1);
  const perToken = new Float64Array(N);
  const grad = new Float64Array(N);
  let pg = 0;
  let klSum = 0;
  let approx = 0;
  let clipped = 0;
  let ratioSum = 0;
  for (let i = 0; i < N; i++) {
    const A = advantages[i];
    const lr = b.logp[i] - b.oldLogp[i];
    const ratio = Math.exp(lr);
    const lo = 1 - clipEpsilon;
    const hi = 1 + clipEpsilon;
    const l1 = -A * ratio;
    const l2 = -A * Math.min(Math.max(ratio, lo), hi);
    const g1 = -A * ratio;
    const g2 = ratio >= lo && ratio <= hi ? -A * ratio : 0;
    // torch.max splits a tie's gradient evenly between its inputs
    const gMax = l1 > l2 ? g1 : l1 < l2 ? g2 : 0.5 * (g1 + g2);
    const d = b.refLogp[i] - b.logp[i];
    const kl = Math.exp(d) - d - 1;
    perToken[i] = Math.max(l1, l2) + klCoef * kl;
    const m = b.mask[i];
    if (!m) continue;
    pg += Math.max(l1, l2) * m;
    klSum += kl * m;
    approx += 0.5 * lr * lr * m;
    ratioSum += ratio * m;
    if (Math.abs(ratio - 1) > clipEpsilon) clipped += m;
    grad[i] = ((gMax + klCoef * (1 - Math.exp(d))) * m) / denom;
  }
  return {
    loss: pg / denom + (klCoef * klSum) / denom,
    grad,
    perToken,
    approxKl: approx / denom,
    stats: { kl: klSum / denom, clipFraction: clipped / denom, meanRatio: ratioSum / denom },
  };
}

/**
 * The critic's clipped value loss: 0.5 · masked_mean(max((V − R)², (clip(V, V_old ± c) − R)²)).
 * Returns the loss and d loss / d V.
 */
export function clippedValueLoss(values: ArrayLike<number>, oldValues: ArrayLike<number>, returns: ArrayLike<number>, mask: ArrayLike<number>, clipRange: number): { loss: number; grad: Float64Array } {
  const N = values.length;
  let n = 0;
  for (let i = 0; i < N; i++) n += mask[i];
  const denom = Math.max(n, 1);
  const grad = new Float64Array(N);
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const m = mask[i];
    if (!m) continue;
    const V = values[i];
    const lo = oldValues[i] - clipRange;
    const hi = oldValues[i] + clipRange;
    const Vc = Math.min(Math.max(V, lo), hi);
    const a = (V - returns[i]) ** 2;
    const c = (Vc - returns[i]) ** 2;
    const ga = 2 * (V - returns[i]);
    const gc = V >= lo && V <= hi ? 2 * (Vc - returns[i]) : 0;
    const g = a > c ? ga : a < c ? gc : 0.5 * (ga + gc);
    loss += Math.max(a, c) * m;
    grad[i] = (0.5 * g * m) / denom;
  }
  return { loss: (0.5 * loss) / denom, grad };
}
