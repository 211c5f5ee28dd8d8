// Ops for mixture-of-experts routing: top-k over gate scores, gathering the chosen scores, and
// moving token rows to and from experts (indexSelect / indexAdd) with per-row gate weights.
import { record, gradOf, gradOut, addGradient } from '../core/autograd.js';
import type { Tensor } from '../core/tensor.js';
import { emptyLike, fb, ib, lastDim } from './util.js';

/** The k largest of each row of x (N, C): values (N, k) (no grad) and indices (N, k) int32. */
export function topk(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const C = lastDim(x);
  if (k < 1 || k > C) throw new Error(`topk: k=${k} for rows of ${C}`);
  const N = x.size / C;
  const values = emptyLike(x, [...x.shape.slice(0, -1), k]);
  const indices = emptyLike(x, values.shape, 'int32');
  x.backend.topk(fb(values), ib(indices), fb(x, 'topk'), N, C, k);
  return { values, indices };
}

/** out[i, j] = x[i, idx[i, j]]: x (..., C), idx (..., k) -> (..., k). */
export function gather(x: Tensor, idx: Tensor): Tensor {
  const C = lastDim(x);
  const k = lastDim(idx);
  const N = x.size / C;
  const out = emptyLike(x, idx.shape);
  x.backend.gatherForward(fb(out), fb(x, 'gather'), ib(idx, 'gather'), N, C, k);
  return record(out, [x], (g) => x.backend.gatherBackward(fb(gradOf(x)), fb(g), ib(idx), N, C, k));
}

/** Rows of x (N, C) picked by rows (n) int32 -> (n, C). */
export function indexSelect(x: Tensor, rows: Tensor): Tensor {
  const C = lastDim(x);
  const out = emptyLike(x, [rows.size, C]);
  x.backend.embeddingForward(fb(out), ib(rows, 'indexSelect'), fb(x, 'indexSelect'), rows.size, C);
  return record(out, [x], (g) => x.backend.embeddingBackward(fb(gradOf(x)), fb(g), ib(rows), rows.size, C));
}

/** A copy of base (N, C) with src (n, C) added at rows (n): out[rows[i]] += src[i]. */
export function indexAdd(base: Tensor, rows: Tensor, src: Tensor): Tensor {
  const C = lastDim(base);
  const be = base.backend;
  const out = emptyLike(base);
  be.copy(out.buf, base.buf, base.size);
  be.embeddingBackward(fb(out), fb(src, 'indexAdd'), ib(rows, 'indexAdd'), rows.size, C);
  return record(out, [base, src], (g) => {
    if (base.requiresGrad) addGradient(base, g);
    if (src.requiresGrad) {
      // the rows of g src was added at: gathered straight into a first-written gradient
      const { grad, accumulate } = gradOut(src);
      const picked = accumulate ? emptyLike(src) : grad;
      be.embeddingForward(fb(picked), ib(rows), fb(g), rows.size, C);
      if (accumulate) {
        be.axpy(fb(grad), fb(picked), 1, src.size);
        picked.dispose();
      }
    }
  });
}

/** out[i, :] = x[i, :] * w[i]: x (N, C), w (N). */
export function rowScale(x: Tensor, w: Tensor): Tensor {
  const C = lastDim(x);
  const N = x.size / C;
  if (w.size !== N) throw new Error(`rowScale: ${w.size} weights for ${N} rows`);
  const out = emptyLike(x);
  const be = x.backend;
  be.rowScaleForward(fb(out), fb(x, 'rowScale'), fb(w), N, C);
  return record(out, [x, w], (g) => {
    const dx = gradOut(x);
    const dw = gradOut(w);
    be.rowScaleBackward(fb(dx.grad), fb(dw.grad), fb(g), fb(x), fb(w), N, C, dx.accumulate, dw.accumulate);
  });
}
