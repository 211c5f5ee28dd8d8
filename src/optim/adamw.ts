// AdamW with torch.optim.AdamW's defaults and semantics (betas (0.9, 0.999), eps 1e-8,
// weight_decay 0.01, decoupled decay). The learning rate is set before each step by the trainer
// (MiniMind sets it by hand every step too). State can be exported for exact resume.
import { zeros, type Tensor } from '../core/tensor.js';
import type { FBuf } from '../backends/backend.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of steps taken (PyTorch's per-parameter `step`, identical for all here). */
  stepCount = 0;
  private readonly m: Tensor[];
  private readonly v: Tensor[];

  constructor(readonly params: Tensor[], opts: AdamWOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    this.m = params.map((p) => zeros(p.shape, p.dtype, p.backend).keep());
    this.v = params.map((p) => zeros(p.shape, p.dtype, p.backend).keep());
  }

  /**
   * Updates every parameter that has a gradient. guard: a one-element tensor on the parameters'
   * backend, read where the step runs; NaN or ±Infinity there makes the step change nothing (the
   * trainer's non-finite check, without a host read). stepCount counts the step either way: a
   * guarded run stops at its next host read once a step was skipped.
   */
  step(guard?: Tensor): void {
    this.stepCount++;
    const g = guard ? (guard.buf as FBuf) : null;
    const idx = this.params.flatMap((p, i) => (p.grad ? [i] : []));
    const be = this.params[0]?.backend;
    if (be?.adamwStepMulti && idx.length > 1) {
      // one launch for all parameters (the same arithmetic per element)
      const bufs = (ts: Tensor[]): FBuf[] => idx.map((i) => ts[i].buf as FBuf);
      be.adamwStepMulti(bufs(this.params), idx.map((i) => this.params[i].grad!.buf as FBuf), bufs(this.m), bufs(this.v), idx.map((i) => this.params[i].size),
        this.lr, this.betas[0], this.betas[1], this.eps, this.weightDecay, this.stepCount, g);
      return;
    }
    for (const i of idx) {
      const p = this.params[i];
      p.backend.adamwStep(p.buf as FBuf, p.grad!.buf as FBuf, this.m[i].buf as FBuf, this.v[i].buf as FBuf, p.size, this.lr, this.betas[0], this.betas[1], this.eps, this.weightDecay, this.stepCount, g);
    }
  }

  /**
   * Forgets the gradients, as PyTorch's zero_grad(set_to_none=True): a parameter without a gradient
   * in the next step is skipped by step(). The buffers are kept, and the next backward overwrites
   * them (Tensor.zeroGrad), so no step zero-fills or reallocates them.
   */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Moments as host arrays plus the step count, for checkpoints. */
  stateDict(): { step: number; m: Float32Array[]; v: Float32Array[] } {
    return { step: this.stepCount, m: this.m.map((t) => Float32Array.from(t.toArray())), v: this.v.map((t) => Float32Array.from(t.toArray())) };
  }

  loadStateDict(state: { step: number; m: Float32Array[]; v: Float32Array[] }): void {
    if (state.m.length !== this.params.length || state.v.length !== this.params.length) {
      throw new Error(`optimizer state has ${state.m.length} tensors, the model has ${this.params.length} trainable parameters`);
    }
    this.stepCount = state.step;
    const put = (dst: Tensor, src: Float32Array, what: string): void => {
      if (src.length !== dst.size) throw new Error(`optimizer state ${what}: ${src.length} values for a parameter of ${dst.size}`);
      const tmp = dst.backend.upload(dst.dtype === 'float64' ? Float64Array.from(src) : src);
      dst.backend.copy(dst.buf, tmp, dst.size);
      dst.backend.free(tmp);
    };
    state.m.forEach((a, i) => put(this.m[i], a, `m[${i}]`));
    state.v.forEach((a, i) => put(this.v[i], a, `v[${i}]`));
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
