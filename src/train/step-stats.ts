// Device-side values of training steps, read to the host in batches. Each micro-batch leaves its
// loss and each optimizer update its gradients' Σg² (per parameter group) in a small device buffer; `read()` downloads
// everything since the last read in one transfer. So a GPU step needs no host round trip: the
// trainer reads at log intervals, checkpoints and the end (on CPU backends, where a read costs
// nothing, after every step), and the host then does the same float64 arithmetic on the values it
// always did.
//
// `guard` is what the optimizer step checks instead of the host: 0 while every loss and Σg² since
// the last read was finite, NaN from the first that was not (guard += 0·x is NaN exactly when x is
// NaN or ±Infinity, IEEE 754). AdamW.step(guard) skips that step and every later one until the
// read, so the weights stay those before the first bad step.
import { empty, type Tensor } from '../core/tensor.js';
import type { Backend, FBuf } from '../backends/backend.js';

/** One step as read back. */
export interface StepValues<S, M> {
  info: S;
  /** Σg² before clipping of each optimizer update the step made, group by group (update 0's groups first). */
  gradSq: number[];
  /** Each loss the step recorded (a supervised step: one per micro-batch), with what the loop recorded about it. */
  micro: { loss: number; info: M }[];
}

export class DeviceStepStats<S, M> {
  readonly guard: Tensor;
  private readonly values: Tensor;
  private used = 0;
  private readonly steps: { info: S; gradSq: number[]; micro: { at: number; info: M }[] }[] = [];
  private micro: { at: number; info: M }[] = [];
  private gradSq: number[] = [];

  /** room: how many values (losses and Σg²s) fit between two reads. */
  constructor(private readonly backend: Backend, readonly room: number) {
    this.guard = empty([1], 'float32', backend).keep();
    this.values = empty([room], 'float32', backend).keep();
    backend.fill(this.guard.buf, 0, 1);
  }

  /** Steps recorded since the last read. */
  get size(): number {
    return this.steps.length;
  }

  /** Whether `n` more values still fit before the next read. */
  fits(n: number): boolean {
    return this.used + n <= this.room;
  }

  /** Records a loss (a one-element tensor, left on its device). */
  addLoss(loss: Tensor, info: M): void {
    this.micro.push({ at: this.put(loss), info });
  }

  /** Records an update's Σg² (a one-element tensor): call before the optimizer step reads the guard. Returns its slot (for peek). */
  addGradSq(gradSq: Tensor): number {
    const at = this.put(gradSq);
    this.gradSq.push(at);
    return at;
  }

  /** Ends the step. */
  endStep(info: S): void {
    this.steps.push({ info, gradSq: this.gradSq, micro: this.micro });
    this.micro = [];
    this.gradSq = [];
  }

  /** The values in `slots` now (one host transfer; the guard and what is pending stay). */
  peek(slots: number[]): number[] {
    const host = this.backend.download(this.values.buf);
    return slots.map((at) => host[at]);
  }

  /** The current step's losses so far (one host transfer: data parallel sums them over the ranks every step). */
  currentLosses(): { loss: number; info: M }[] {
    if (this.micro.length === 0) return [];
    const host = this.backend.download(this.values.buf);
    return this.micro.map((m) => ({ loss: host[m.at], info: m.info }));
  }

  /** The steps since the last read, in order (one host transfer); the guard starts again at 0. */
  read(): StepValues<S, M>[] {
    if (this.used === 0) return [];
    const host = this.backend.download(this.values.buf);
    const out = this.steps.map((s) => ({ info: s.info, gradSq: s.gradSq.map((at) => host[at]), micro: s.micro.map((m) => ({ loss: host[m.at], info: m.info })) }));
    this.steps.length = 0;
    this.used = 0;
    this.backend.fill(this.guard.buf, 0, 1);
    return out;
  }

  dispose(): void {
    this.guard.dispose();
    this.values.dispose();
  }

  // copies a one-element tensor into the next slot and folds it into the guard; returns the slot
  private put(x: Tensor): number {
    if (this.used >= this.room) throw new Error('DeviceStepStats: read() before recording more values (the loop sizes room from the stage\'s losses and updates per step)');
    const be = this.backend;
    be.sliceScatter(this.values.buf, x.buf, 1, this.room, 1, this.used, 1, false);
    be.axpy(this.guard.buf as FBuf, x.buf as FBuf, 0, 1);
    return this.used++;
  }
}
