// Learning-rate schedules from MiniMind.
//   HEAD (trainer_utils.get_lr, since 2025-12): lr·(0.1 + 0.45·(1 + cos(π·t/T))) — cosine from
//   lr down to 0.1·lr, no warmup; t counts optimizer steps from 0 here (MiniMind's t is the
//   1-indexed micro-step; the curve is the same to within one step).
//   Optional linear warmup (v1's LoRA used 1000 steps): lr·(t+1)/warmup for t < warmup, then the
//   cosine over the remaining steps.

export interface LrSchedule {
  (step: number): number;
}

export function cosineLr(baseLr: number, totalSteps: number, warmupSteps = 0, minRatio = 0.1): LrSchedule {
  const T = Math.max(1, totalSteps - warmupSteps);
  return (step: number) => {
    if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
    const t = Math.min(step - warmupSteps, T);
    return baseLr * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos((Math.PI * t) / T)));
  };
}
