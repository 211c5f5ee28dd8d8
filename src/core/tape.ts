// The autograd tape itself: an ordered list of nodes. Kept apart from autograd.ts so that scopes
// can trim it without an import cycle through Tensor.
import type { Tensor } from './tensor.js';

export interface Node {
  out: Tensor;
  inputs: readonly Tensor[];
  backward: (grad: Tensor) => void;
}

export let tape: Node[] = [];

export function tapeLength(): number {
  return tape.length;
}

export function truncateTape(length: number): void {
  if (tape.length > length) tape.length = length;
}

/** Hands the whole tape to the caller and starts a new one. */
export function takeTape(): Node[] {
  const t = tape;
  tape = [];
  return t;
}
