// MinHash signatures and LSH band keys as datatrove computes them (pipeline/dedup/minhash.py,
// MinhashConfig defaults: 5-word shingles, 14 bands of 8 hashes, seed 1, 64-bit xxhash):
//   shingle  = xxh64(" ".join(5 consecutive words of simplify_text(text)))
//   hash_i   = ((shingle * a_i + b_i) mod 2^64) mod (2^61 - 1)      (numpy uint64 arithmetic)
//   sig_i    = min over shingles of hash_i;  band j = sig[8j .. 8j+8)
// a and b come from numpy's RandomState(seed).randint: MT19937 and numpy's masked rejection
// sampling, reproduced below, so any band / row count gives datatrove's parameters. All 64-bit
// values are (hi, lo) uint32 pairs: no BigInt in the per-shingle loop.
// This file is the definition; unitsSignature runs the same steps in the native addon when it
// loads (src/backends/cpu/minhash.cc: 64-bit integers and vector instructions make the signature
// many times faster than its double-emulated JS form), bit for bit the same (tests compare them).
import { h64Into, h64RawInto } from './xxhash.js';
import { simplifyText } from './simplify.js';
import { joinedWords } from './filters/words.js';
import { cpuLoadError, loadAddon } from '../backends/cpu/index.js';
import { UserError } from '../core/errors.js';

export interface MinhashConfig {
  /** Words per shingle (datatrove n_grams). */
  ngram: number;
  /** LSH bands (datatrove num_buckets). */
  bands: number;
  /** Hashes per band (datatrove hashes_per_bucket). */
  rows: number;
  seed: number;
  /** 'word' (datatrove: Treebank words of the simplified text) or 'char' (characters without spaces, for Chinese and other unspaced text). */
  unit: 'word' | 'char';
}

export const MINHASH_DEFAULTS: MinhashConfig = { ngram: 5, bands: 14, rows: 8, seed: 1, unit: 'word' };

/** numpy's legacy MT19937 (RandomState with an integer seed). */
class MT19937 {
  private mt = new Uint32Array(624);
  private pos = 624;
  constructor(seed: number) {
    let s = seed >>> 0;
    for (let i = 0; i < 624; i++) {
      this.mt[i] = s;
      const x = s ^ (s >>> 30);
      s = (Math.imul(1812433253, x) + i + 1) >>> 0;
    }
  }
  next32(): number {
    const mt = this.mt;
    if (this.pos >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
        mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.pos = 0;
    }
    let y = mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
  next64(): bigint {
    const hi = BigInt(this.next32());
    return (hi << 32n) | BigInt(this.next32());
  }
  /** randint(low, high, dtype=uint64) for a range wider than 32 bits: masked rejection. */
  randintU64(low: bigint, high: bigint, n: number): bigint[] {
    const rng = high - 1n - low;
    let mask = rng;
    for (const s of [1n, 2n, 4n, 8n, 16n, 32n]) mask |= mask >> s;
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) {
      let v: bigint;
      do v = this.next64() & mask;
      while (v > rng);
      out.push(low + v);
    }
    return out;
  }
}

const P = (1n << 61n) - 1n;

export interface MinhashParams {
  aHi: Uint32Array;
  aLo: Uint32Array;
  bHi: Uint32Array;
  bLo: Uint32Array;
}

/** datatrove's permutation parameters for `n` hashes and `seed`. */
export function minhashParams(n: number, seed: number): MinhashParams {
  const gen = new MT19937(seed);
  const a = gen.randintU64(1n, P, n);
  const b = gen.randintU64(0n, P, n);
  const split = (xs: bigint[], hi: boolean) => Uint32Array.from(xs, (x) => Number(hi ? x >> 32n : x & 0xffffffffn));
  return { aHi: split(a, true), aLo: split(a, false), bHi: split(b, true), bLo: split(b, false) };
}

/**
 * The units datatrove shingles, joined: the words of simplify_text(text) joined by ' ', or its
 * characters without whitespace. One string, so the native path can take it as it is.
 */
export function shingleText(text: string, unit: 'word' | 'char'): string {
  const s = simplifyText(text);
  return unit === 'word' ? joinedWords(s) : s.replace(/\s+/gu, '');
}

/** The units of a shingleText: its words, or its characters. */
export function unitsOf(joined: string, unit: 'word' | 'char'): string[] {
  if (unit === 'char') return Array.from(joined);
  return joined === '' ? [] : joined.split(' ');
}

/** The words (or characters) datatrove shingles. */
export function shingleUnits(text: string, unit: 'word' | 'char'): string[] {
  return unitsOf(shingleText(text, unit), unit);
}

/** xxh64 of each n-gram (joined by ' ' for words, '' for characters) as (hi, lo) pairs; null when the text has fewer units than n. */
export function shingles(units: string[], n: number, joiner: string): Uint32Array | null {
  const count = units.length - n + 1;
  if (count <= 0) return null;
  const out = new Uint32Array(2 * count);
  for (let i = 0; i < count; i++) {
    h64Into(units.slice(i, i + n).join(joiner), out, 2 * i);
  }
  return out;
}

/**
 * The signature: for each permutation, min over shingles of ((s*a + b) mod 2^64) mod (2^61-1).
 * Returns 2*H uint32 (hi, lo) values.
 */
export function signature(sh: Uint32Array, p: MinhashParams): Uint32Array {
  const H = p.aHi.length;
  const n = sh.length;
  const sig = new Uint32Array(2 * H);
  // one permutation at a time over every shingle: its parameters and running minimum stay in locals
  for (let h = 0; h < H; h++) {
    const aLo = p.aLo[h];
    const aHi = p.aHi[h];
    const bLo = p.bLo[h];
    const bHi = p.bHi[h];
    let minHi = 0xffffffff;
    let minLo = 0xffffffff;
    for (let k = 0; k < n; k += 2) {
      const sHi = sh[k];
      const sLo = sh[k + 1];
      // sLo * aLo as a full 64-bit product: x = s1*aLo and y = s0*aLo are exact doubles (< 2^48),
      // product = xh*2^32 + (xl*2^16 + y), and the bracket (< 2^49) is exact too
      const x = (sLo >>> 16) * aLo;
      const y = (sLo & 0xffff) * aLo;
      const xh = Math.floor(x / 65536);
      const r = (x - xh * 65536) * 65536 + y;
      let lo = Math.imul(sLo, aLo) >>> 0;
      // high word: the product's, plus the cross terms (mod 2^64 they only reach the high word)
      let hi = (xh + Math.floor(r / 4294967296) + Math.imul(sHi, aLo) + Math.imul(sLo, aHi)) >>> 0;
      // + b (mod 2^64)
      const l2 = lo + bLo;
      lo = l2 >>> 0;
      hi = (hi + bHi + (l2 > 0xffffffff ? 1 : 0)) >>> 0;
      // mod (2^61 - 1): x = (x >> 61) + (x & P), then one conditional subtraction
      let rHi = hi & 0x1fffffff;
      let rLo = lo + (hi >>> 29);
      if (rLo > 0xffffffff) {
        rLo -= 0x100000000;
        rHi++;
      }
      if (rHi > 0x1fffffff || (rHi === 0x1fffffff && rLo === 0xffffffff)) {
        rHi -= 0x20000000; // x - P = x - 2^61 + 1
        rLo += 1;
        if (rLo > 0xffffffff) {
          rLo -= 0x100000000;
          rHi++;
        }
      }
      if (rHi < minHi || (rHi === minHi && rLo < minLo)) {
        minHi = rHi;
        minLo = rLo;
      }
    }
    sig[2 * h] = minHi;
    sig[2 * h + 1] = minLo;
  }
  return sig;
}

/** One 64-bit key per band (xxh64 of the band's values), as 2*bands uint32. */
export function bandKeys(sig: Uint32Array, bands: number, rows: number): Uint32Array {
  const out = new Uint32Array(2 * bands);
  for (let b = 0; b < bands; b++) {
    const bytes = new Uint8Array(sig.buffer, sig.byteOffset + b * rows * 8, rows * 8);
    h64RawInto(bytes, BigInt(b), out, 2 * b);
  }
  return out;
}

type NativeSignature = (sig: Uint32Array, bytes: Uint8Array, byChar: boolean, n: number, aHi: Uint32Array, aLo: Uint32Array, bHi: Uint32Array, bLo: Uint32Array) => boolean;
let native: NativeSignature | null | undefined;
/**
 * The native signature kernel, or null for the JS path: MINIMIND_MINHASH=js picks JS (to compare
 * or time the two), =native requires the addon, unset uses the addon when it loads.
 */
function nativeSignature(): NativeSignature | null {
  if (native !== undefined) return native;
  const want = process.env.MINIMIND_MINHASH ?? '';
  if (!['', 'js', 'native'].includes(want)) throw new UserError(`MINIMIND_MINHASH must be 'js' or 'native' (or unset for native when the addon is built), got '${want}'`);
  const addon = want === 'js' ? null : loadAddon();
  native = (addon?.minhashSignature as NativeSignature | undefined) ?? null; // an addon built before minhash.cc has none
  if (want === 'native' && !native) throw new UserError(`MINIMIND_MINHASH=native but the native addon has no MinHash kernel (${cpuLoadError() ?? 'rebuild it: npm run build:native'})`);
  return native;
}
const encoder = new TextEncoder();

/**
 * The signature (2*H uint32 (hi, lo)) of a shingleText, or null when it has fewer than n units.
 * The native kernel splits the UTF-8 bytes into units itself (at spaces, or at character starts),
 * so no per-word strings are made; the JS path is shingles + signature.
 */
export function textSignature(joined: string, unit: 'word' | 'char', n: number, p: MinhashParams): Uint32Array | null {
  const kernel = nativeSignature();
  if (!kernel) {
    const sh = shingles(unitsOf(joined, unit), n, unit === 'word' ? ' ' : '');
    return sh && signature(sh, p);
  }
  const sig = new Uint32Array(2 * p.aHi.length);
  return kernel(sig, encoder.encode(joined), unit === 'char', n, p.aHi, p.aLo, p.bHi, p.bLo) ? sig : null;
}
