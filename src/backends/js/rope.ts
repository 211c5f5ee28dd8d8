// Rotary position embedding on x (B, T, H, D). Each pair (a, b) of a head is rotated by the angle
// pos * f_i:  a' = a cos - b sin,  b' = a sin + b cos. The pairs are (x[2i], x[2i+1]) when
// interleaved (MiniMind v1's complex view) and (x[i], x[i + D/2]) otherwise (rotate-half, HF).
// Backward rotates by the opposite angle, since a rotation's transpose is its inverse.
import type { HostFBuf as FBuf } from '../backend.js';

function rotate(out: FBuf, x: FBuf, cos: FBuf, sin: FBuf, B: number, T: number, H: number, D: number, pos0: number, interleaved: boolean, sign: number, accumulate: boolean): void {
  const half = D / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = (pos0 + t) * half;
      for (let h = 0; h < H; h++) {
        const base = ((b * T + t) * H + h) * D;
        for (let i = 0; i < half; i++) {
          const ia = base + (interleaved ? 2 * i : i);
          const ib = base + (interleaved ? 2 * i + 1 : i + half);
          const c = cos[row + i];
          const s = sign * sin[row + i];
          const a = x[ia];
          const bv = x[ib];
          const na = a * c - bv * s;
          const nb = a * s + bv * c;
          if (accumulate) { out[ia] += na; out[ib] += nb; } else { out[ia] = na; out[ib] = nb; }
        }
      }
    }
  }
}

export function ropeForward(out: FBuf, x: FBuf, cos: FBuf, sin: FBuf, B: number, T: number, H: number, D: number, pos0: number, interleaved: boolean): void {
  rotate(out, x, cos, sin, B, T, H, D, pos0, interleaved, 1, false);
}

export function ropeBackward(dx: FBuf, dout: FBuf, cos: FBuf, sin: FBuf, B: number, T: number, H: number, D: number, pos0: number, interleaved: boolean, accumulate: boolean): void {
  rotate(dx, dout, cos, sin, B, T, H, D, pos0, interleaved, -1, accumulate);
}
