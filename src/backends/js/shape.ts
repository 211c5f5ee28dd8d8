// Data movement: permutation (transpose), slices along one axis (views as outer x dim x inner),
// and sums along one axis with their broadcast backward.
import type { HostBuf as Buf, HostFBuf as FBuf } from '../backend.js';

export function permute(out: Buf, x: Buf, shape: readonly number[], perm: readonly number[], accumulate: boolean): void {
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) { inStrides[d] = s; s *= shape[d]; }
  const outShape = perm.map((p) => shape[p]);
  const idx = new Array<number>(rank).fill(0); // index into out
  for (let o = 0; o < s; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d] * inStrides[perm[d]];
    out[o] = accumulate ? out[o] + x[src] : x[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
}

export function sliceCopy(out: Buf, x: Buf, outer: number, dimIn: number, inner: number, start: number, len: number, accumulate: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < len * inner; j++) {
      const dst = o * len * inner + j;
      const v = x[(o * dimIn + start) * inner + j];
      out[dst] = accumulate ? out[dst] + v : v;
    }
  }
}

export function sliceScatter(out: Buf, x: Buf, outer: number, dimOut: number, inner: number, start: number, len: number, accumulate: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < len * inner; j++) {
      const dst = (o * dimOut + start) * inner + j;
      const v = x[o * len * inner + j];
      out[dst] = accumulate ? out[dst] + v : v;
    }
  }
}

export function sumAxis(out: FBuf, x: FBuf, outer: number, dim: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += x[(o * dim + d) * inner + i];
      out[o * inner + i] = s;
    }
  }
}

export function sumAxisBackward(dx: FBuf, dout: FBuf, outer: number, dim: number, inner: number, accumulate: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < dim; d++) {
      for (let i = 0; i < inner; i++) {
        const j = (o * dim + d) * inner + i;
        dx[j] = accumulate ? dx[j] + dout[o * inner + i] : dout[o * inner + i];
      }
    }
  }
}
