// Tape-based reverse-mode autograd. Every differentiable op that sees an input requiring grad
// appends a Node (its output and a closure that turns the output's gradient into the inputs'
// gradients). Creation order is a topological order, so backward() walks the tape in reverse.
//
// First write overwrites: a tensor's gradient slot is empty (never written, or forgotten by
// zeroGrad(), which keeps the buffer) or holds the sum so far. A backward fn asks gradOut(t): the
// first contribution gets an unfilled buffer to overwrite (accumulate false), later ones the sum
// to add into (accumulate true). So a tensor used twice gets the sum, and no gradient is
// zero-filled only to have one contribution added to it. Only kernels that scatter-add (embedding,
// gather, attention's GQA heads, a slice into part of its input) ask gradOf(t), which zero-fills.
//
// backward() runs only the nodes its loss depends on and frees them,
// as PyTorch frees a graph: other losses' nodes stay on the tape for their own backward(); a
// second backward() through a freed graph, or through tensors a scope has already disposed, is
// an error that says so instead of silently computing no gradients.
import { Storage, Tensor, installAutogradHooks, empty, emptyLowPrecision, zeros, full } from './tensor.js';
import { tape, takeTape, type Node } from './tape.js';

export type { Node };

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording anything for autograd (inference, the DPO reference model, ...). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Called by ops after computing `out` from `inputs`: when any input requires grad, marks out as
 * requiring grad and records how to push its gradient back. Returns out.
 */
export function record(out: Tensor, inputs: readonly Tensor[], backward: (grad: Tensor) => void): Tensor {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  const node: Node = { out, inputs, backward };
  out.node = node;
  tape.push(node);
  return out;
}

/** Where a backward kernel writes t's gradient, and whether it adds (+=) or overwrites (=). */
export interface GradOut {
  grad: Tensor;
  accumulate: boolean;
}

// A new gradient slot for t, unfilled: the buffer zeroGrad() kept, else a new one. Leaves
// (parameters) keep their gradient across scopes; intermediate gradients belong to the current scope.
// With `lowp`, a tensor stored in bf16 gets a bf16 gradient (autocast's: the gradient of a bf16
// activation is bf16), for a kernel that writes bf16.
function newSlot(t: Tensor, lowp = false): Tensor {
  const kept = t.keptGrad();
  if (kept) {
    t.grad = kept;
    return kept;
  }
  const g = lowp && t.storage.bf16 && t.storage.bf16Grad ? emptyLowPrecision(t.shape, t.backend) : empty(t.shape, t.dtype, t.backend);
  if (!t.node) g.keep();
  t.grad = g;
  return g;
}

/**
 * t's gradient for a kernel that can overwrite or accumulate: the first contribution gets an
 * unfilled buffer to overwrite, later ones the sum to add into. For a t that needs no gradient
 * (an input of a multi-output kernel), unfilled scratch to overwrite.
 *
 * lowp: the kernel writes bf16 (ops/precision.ts), so a first contribution to a bf16-stored t may
 * get a bf16 gradient. A bf16 gradient is only ever overwritten: a later contribution first makes
 * it float32 (exactly), so every sum is taken in float32.
 */
export function gradOut(t: Tensor, lowp = false): GradOut {
  if (!t.requiresGrad) return { grad: empty(t.shape, t.dtype, t.backend), accumulate: false };
  if (t.grad) {
    t.grad.storage.toFloat32();
    return { grad: t.grad, accumulate: true };
  }
  return { grad: newSlot(t, lowp), accumulate: false };
}

/**
 * t's gradient, zero-filled when new: for kernels that only accumulate (scatter-adds touch some
 * elements several times and others not at all). Zero scratch when t needs no gradient.
 */
export function gradOf(t: Tensor): Tensor {
  if (!t.requiresGrad) return zeros(t.shape, t.dtype, t.backend);
  if (t.grad) {
    t.grad.storage.toFloat32();
    return t.grad;
  }
  const g = newSlot(t);
  g.backend.fill(g.buf, 0, g.size);
  return g;
}

/**
 * t's gradient (+)= alpha * g (g has t's size): a copy or a scaled copy as the first write; for a
 * bf16-stored t, its first gradient is g rounded to bf16 (a residual sum's branch, as autocast).
 */
export function addGradient(t: Tensor, g: Tensor, alpha = 1): void {
  const be = t.backend;
  if (alpha === 1 && t.requiresGrad && !t.grad && t.storage.bf16 && t.storage.bf16Grad && !g.storage.bf16 && be.lowPrecisionCopy) {
    const lowp = be.lowPrecisionCopy(g.buf as Float32Array, g.size);
    if (lowp) {
      t.grad = new Tensor(new Storage(be, null, lowp, g.size), t.shape, t.dtype);
      return;
    }
  }
  const { grad, accumulate } = gradOut(t);
  if (accumulate) be.axpy(grad.buf as Float32Array, g.buf as Float32Array, alpha, g.size);
  else if (alpha === 1) be.copy(grad.buf, g.buf, g.size);
  else be.affine(grad.buf as Float32Array, g.buf as Float32Array, alpha, 0, g.size);
}

/** Outputs whose graph a backward() has run and freed. */
const freed = new WeakSet<Tensor>();

const FREED = 'backward(): this graph was already used by an earlier backward() and freed (as in PyTorch without retain_graph); compute the loss again, or add the losses and call backward() once';
const DISPOSED = 'backward(): the graph of this loss holds tensors a scope has already disposed; call backward() inside the scope that computed the loss (return numbers, not the loss, from an inner scope)';

/** Adds the nodes `root` depends on to `seen`; throws when part of that graph is gone. */
function reachable(root: Tensor, seen: Set<Node>): void {
  const stack: Node[] = [root.node!];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const t of node.inputs) {
      if (t.isDisposed && t.requiresGrad) throw new Error(DISPOSED);
      if (t.node) stack.push(t.node);
      else if (freed.has(t)) throw new Error(FREED);
    }
  }
}

function backward(root: Tensor): void {
  if (root.isDisposed) throw new Error(DISPOSED);
  if (!root.requiresGrad) throw new Error('backward(): the tensor does not require grad (no parameter contributed to it, or it was computed under noGrad)');
  if (root.size !== 1) throw new Error(`backward() needs a scalar, got shape [${root.shape.join(', ')}]`);
  if (!root.node) {
    if (freed.has(root)) throw new Error(FREED);
    // a leaf: d(root)/d(root) = 1
    const one = full(root.shape, 1, root.dtype, root.backend);
    addGradient(root, one);
    one.dispose();
    return;
  }
  if (!root.grad) root.grad = full(root.shape, 1, root.dtype, root.backend);
  run([root]);
}

// Runs the nodes the roots depend on (each root's gradient already in root.grad), in reverse
// creation order, and frees them. The roots keep their gradients; every other one is freed once
// pushed to its inputs.
function run(roots: readonly Tensor[]): void {
  const mine = new Set<Node>();
  for (const r of roots) reachable(r, mine);
  const all = takeTape();
  const nodes = all.filter((n) => mine.has(n));
  // the nodes of other losses go back on the tape, in order, for their own backward()
  for (const n of all) if (!mine.has(n)) tape.push(n);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const g = node.out.grad;
    freed.add(node.out);
    if (!g) {
      node.out.node = null;
      continue;
    }
    node.backward(g);
    // The gradient of an intermediate is dead once pushed to its inputs: free it now, not at
    // the end of the step, which keeps peak memory near one layer's worth of gradients.
    if (!roots.includes(node.out)) {
      g.dispose();
      node.out.grad = null;
    }
    node.out.node = null;
  }
}

/**
 * Backpropagates given gradients from several outputs at once (torch.autograd.backward(tensors,
 * grad_tensors)): for a recomputed block inside an outer backward (nn/checkpoint.ts). grads[i] has
 * outputs[i]'s shape; outputs without a node or with a null gradient are skipped. The caller keeps
 * ownership of the gradients: on return outputs[i].grad is null again.
 */
export function backwardFrom(outputs: readonly Tensor[], grads: readonly (Tensor | null)[]): void {
  const roots: Tensor[] = [];
  outputs.forEach((t, i) => {
    const g = grads[i];
    if (!g || !t.node) return;
    if (t.isDisposed) throw new Error(DISPOSED);
    if (g.size !== t.size) throw new Error(`backwardFrom: a gradient of ${g.size} values for an output of shape [${t.shape.join(', ')}]`);
    t.grad = g;
    roots.push(t);
  });
  if (roots.length === 0) return;
  try {
    run(roots);
  } finally {
    for (const t of roots) t.grad = null;
  }
}

/**
 * Adds g to t's gradient. When t has no gradient slot at all and mayShare, t's gradient becomes a
 * view of g's storage (no copy); returns whether it did, so a caller passing one g to two inputs
 * shares it only once (the first input's later accumulations must not reach the second's). A
 * buffer zeroGrad() kept gets a copy instead: a parameter keeps one gradient buffer across steps.
 */
export function flowGradient(t: Tensor, g: Tensor, mayShare: boolean): boolean {
  if (!t.grad && mayShare && !t.keptGrad()) {
    t.grad = g.reshape(t.shape);
    if (!t.node) t.grad.keep();
    return true;
  }
  addGradient(t, g);
  return false;
}

// A reshape view of a tensor that requires grad passes its gradient straight through.
function reshapeView(src: Tensor, view: Tensor): Tensor {
  return record(view, [src], (g) => {
    flowGradient(src, g, true);
  });
}

installAutogradHooks(reshapeView, backward);
