// Gradient checkpointing (torch.utils.checkpoint): a block's activations are not kept for backward;
// only its input is. The backward pass runs the block again from that input, with autograd on, and
// backpropagates through the copy. Memory per block drops from all its intermediates to its input,
// for one more forward of the block (about a third more compute for a transformer layer).
//
// The forward runs with autograd on, as the recompute will (so both take the same code path and
// give the same values), inside a scope that frees every intermediate at once; the nodes it
// recorded only tell which trainable tensors the block read (parameters, LoRA adapters), and are
// then dropped. One node per output stands for the whole block. Blocks must be deterministic
// functions of their input and parameters (MiniMind's have no dropout).
import { backwardFrom, flowGradient, isGradEnabled, record } from '../core/autograd.js';
import { scope } from '../core/scope.js';
import { tape, tapeLength, truncateTape } from '../core/tape.js';
import { Tensor } from '../core/tensor.js';

/** A leaf sharing x's values: the block's input, cut from the graph that made x. */
function detached(x: Tensor, requiresGrad: boolean): Tensor {
  x.storage.refs++;
  const leaf = new Tensor(x.storage, x.shape, x.dtype);
  leaf.requiresGrad = requiresGrad;
  return leaf;
}

/**
 * fn(input) -> outputs (null entries allowed, e.g. a dense layer's missing aux loss), without its
 * activations kept for backward. Outside autograd (or when nothing in fn needs a gradient) it is
 * just fn(input).
 */
export function checkpoint(fn: (input: Tensor) => (Tensor | null)[], input: Tensor): (Tensor | null)[] {
  if (!isGradEnabled()) return fn(input);
  const t0 = tapeLength();
  const outputs = scope(() => fn(detached(input, input.requiresGrad)));
  // the trainable leaves the block read: the inputs of its recorded nodes that no node made (the
  // scope has disposed the block's intermediates, which dropped their nodes: those are not leaves)
  const params = new Set<Tensor>();
  for (let i = t0; i < tape.length; i++) for (const t of tape[i].inputs) if (t.requiresGrad && !t.node && !t.isDisposed && t.storage !== input.storage) params.add(t);
  truncateTape(t0);
  const live = outputs.filter((o): o is Tensor => o !== null && o.requiresGrad);
  for (const o of live) {
    o.node = null;
    o.requiresGrad = false;
  }
  if (live.length === 0) return outputs;
  const inputs = [input, ...params];
  let done = false;
  // Whichever output's node comes first in the backward pass (the last recorded) runs the block
  // again with every output's gradient; gradients reach the other outputs' nodes before it
  // because their consumers were recorded after this block.
  const rerun = (): void => {
    if (done) return;
    done = true;
    const grads = live.map((o) => o.grad);
    const inGrad = scope(() => {
      const leaf = detached(input, input.requiresGrad);
      const again = fn(leaf).filter((o): o is Tensor => o !== null && o.requiresGrad);
      if (again.length !== live.length) throw new Error('checkpoint: the recomputed block gave other outputs than its forward');
      backwardFrom(again, grads);
      return leaf.grad;
    });
    if (inGrad) {
      flowGradient(input, inGrad, true);
      inGrad.dispose();
    }
  };
  for (const o of live) record(o, inputs, rerun);
  return outputs;
}
