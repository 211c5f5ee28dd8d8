// 64-bit xxHash (xxhash-wasm: WebAssembly, loaded once per thread by this module's top-level await):
// the exact-duplicate key's hash and MinHash's shingle and band hashes. Results as (hi, lo) uint32
// halves, read through one shared 8-byte buffer, so no BigInt arithmetic per call.
import xxhash from 'xxhash-wasm';

export const xxh = await xxhash();

const u64 = new BigUint64Array(1);
const u32 = new Uint32Array(u64.buffer); // little-endian: [lo, hi]

/** xxh64 of the string's UTF-8 bytes (seed 0) into out[at] (hi) and out[at + 1] (lo). */
export function h64Into(s: string, out: Uint32Array, at: number): void {
  u64[0] = xxh.h64(s);
  out[at] = u32[1];
  out[at + 1] = u32[0];
}

/** xxh64 of bytes with a seed into out[at] (hi) and out[at + 1] (lo). */
export function h64RawInto(bytes: Uint8Array, seed: bigint, out: Uint32Array, at: number): void {
  u64[0] = xxh.h64Raw(bytes, seed);
  out[at] = u32[1];
  out[at + 1] = u32[0];
}
