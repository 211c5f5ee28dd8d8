// The causal-LM label shift, as Hugging Face's loss: the logits at position t predict the label at
// t + 1, so the targets are the labels shifted left by one in each row, and a row's last position
// has none. IGNORE_INDEX (-100, PyTorch's cross_entropy default) marks a position that is not a
// target. The small host-side labels are shifted instead of slicing the (B, T, V) logits.

export const IGNORE_INDEX = -100;

/** targets[b, t] = labels[b, t + 1]; labels (B, T) row-major; each row's last position is IGNORE_INDEX. */
export function shiftLabels(labels: ArrayLike<number>, B: number, T: number): Int32Array {
  return shiftLeft(labels, new Int32Array(B * T).fill(IGNORE_INDEX), B, T);
}

/** A loss mask aligned with shiftLabels' targets: weight[b, t] = mask[b, t + 1]; 0 at each row's end. */
export function shiftMask(mask: ArrayLike<number>, B: number, T: number): Float32Array {
  return shiftLeft(mask, new Float32Array(B * T), B, T);
}

function shiftLeft<A extends Int32Array | Float32Array>(src: ArrayLike<number>, out: A, B: number, T: number): A {
  for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) out[b * T + t] = src[b * T + t + 1];
  return out;
}
