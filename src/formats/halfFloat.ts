// Float16 / bfloat16 <-> float32 conversion on raw 16-bit patterns (Node 20 has no Float16Array).
// Rounding is round-to-nearest-even, bit-for-bit like torch's `.half()` / `.bfloat16()`.
import { UserError } from '../core/errors.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

let halfTable: Float32Array | null = null;

/** 65536-entry table: f16 bit pattern -> float32 value (built once, 256 KiB). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24; // zero / subnormal
    else if (exp === 31) v = mant ? NaN : Infinity;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    t[h] = sign * v;
  }
  halfTable = t;
  return t;
}

/** f16 bit patterns -> float32 values. */
export function f16ToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const t = halfToFloatTable();
  for (let i = 0; i < src.length; i++) out[i] = t[src[i]];
  return out;
}

/** bf16 bit patterns -> float32 values (exact: bf16 is the top half of a float32). */
export function bf16ToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) o[i] = src[i] << 16;
  return out;
}

/** One float32 bit pattern -> f16 bit pattern, round to nearest even, overflow -> inf. */
export function f32BitsToF16(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // inf / quiet NaN
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): shift the 24-bit significand into the 10-bit field.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1))) h++;
    return sign | h;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // a carry may roll into the exponent (-> inf): correct
  return h;
}

/** One float32 bit pattern -> bf16 bit pattern, round to nearest even (torch's c10::round_to_nearest_even). */
export function f32BitsToBf16(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0; // NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Values at or above this magnitude round to infinity in fp16 (65504 is the largest fp16, 65520 the halfway point to 2^16). */
export const F16_OVERFLOW = 65520;

/**
 * Throws a UserError naming `name` and its largest magnitude when a finite value of `src` would
 * become infinity in fp16: a saved model must hold the weights it was given, not Inf.
 */
export function checkFitsF16(src: Float32Array, name: string): void {
  let max = 0;
  for (let i = 0; i < src.length; i++) {
    const a = Math.abs(src[i]);
    if (a > max && a !== Infinity) max = a;
  }
  if (max >= F16_OVERFLOW) throw new UserError(`tensor ${name} holds ${max} (in magnitude), beyond fp16's largest value 65504; save as bf16 or fp32 instead`);
}

export function f32ToF16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16(bits[i]);
  return out;
}

export function f32ToBf16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToBf16(bits[i]);
  return out;
}

/** Scalar helpers (tests, debugging). */
export function halfBitsToNumber(h: number): number {
  return halfToFloatTable()[h & 0xffff];
}
export function numberToHalfBits(x: number): number {
  f32[0] = x;
  return f32BitsToF16(u32[0]);
}
