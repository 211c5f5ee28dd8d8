// Memory scopes. Every tensor created while a scope is open belongs to it and is disposed when
// the scope ends, except kept tensors and the scope's return value (which moves to the parent
// scope). A training step runs inside one scope, so memory does not grow from step to step:
//
//   const loss = scope(() => { const l = model.loss(x, y); l.backward(); return l.item(); });
import type { Tensor } from './tensor.js';
import { truncateTape, tapeLength } from './tape.js';

const stack: Tensor[][] = [];

export function track(t: Tensor): void {
  if (stack.length > 0) stack[stack.length - 1].push(t);
}

type Returned = Tensor | Tensor[] | Record<string, unknown> | number | void | unknown;

function collect(value: Returned, out: Set<Tensor>, depth = 0): void {
  // Typed arrays (e.g. a logits row read back to the host) hold no tensors: skip them without
  // walking thousands of numbers.
  if (value === null || typeof value !== 'object' || depth > 3 || ArrayBuffer.isView(value)) return;
  if ((value as Tensor).storage !== undefined && (value as Tensor).shape !== undefined) {
    out.add(value as Tensor);
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value as Record<string, unknown>)) collect(v as Returned, out, depth + 1);
}

/** Runs fn in a new scope; frees what it created except kept tensors and what it returns. */
export function scope<T>(fn: () => T): T {
  stack.push([]);
  const tape0 = tapeLength();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    end(new Set(), tape0);
    throw e;
  }
  const keep = new Set<Tensor>();
  collect(result, keep);
  end(keep, tape0);
  return result;
}

function end(keep: Set<Tensor>, tape0: number): void {
  const mine = stack.pop()!;
  const parent = stack.length > 0 ? stack[stack.length - 1] : null;
  for (const t of mine) {
    if (keep.has(t)) parent?.push(t);
    else if (!t.kept) t.dispose();
  }
  // Nodes recorded inside the scope refer to tensors that are now gone (unless backward already ran).
  if (keep.size === 0) truncateTape(tape0);
}
