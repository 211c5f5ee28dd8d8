// Learning-rate schedules as MiniMind writes them (docs/minimind.md 4.1). `step` counts from 0 here.
//   cosineLr (HEAD):  lr * (0.1 + 0.45 * (1 + cos(pi * t / T)))  — cosine from lr down to lr/10
//   with optional linear warmup (v1's get_lr) and a configurable floor (minRatio).

export interface CosineOptions {
  lr: number;
  totalSteps: number;
  warmupSteps?: number;
  /** The final lr as a fraction of lr (MiniMind: 0.1). */
  minRatio?: number;
}

export function cosineLr(step: number, opts: CosineOptions): number {
  const warmup = opts.warmupSteps ?? 0;
  const minRatio = opts.minRatio ?? 0.1;
  if (warmup > 0 && step < warmup) return (opts.lr * (step + 1)) / warmup;
  const span = Math.max(1, opts.totalSteps - warmup);
  const t = Math.min(1, (step - warmup) / span);
  return opts.lr * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * t)));
}
