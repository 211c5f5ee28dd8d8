// A small seeded PRNG (mulberry32) and a Fisher–Yates shuffle: the same seed gives the same
// order on every machine and every Node version, which is what makes --resume exact.
import { Rng } from '../core/random.js';

/** mulberry32 (core/random.ts's Rng) as a plain function returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** Mixes two integers into one 32-bit seed (so seed 42/epoch 1 and seed 43/epoch 0 differ). */
export function mixSeed(a: number, b: number): number {
  let h = (Math.imul(a >>> 0, 0x9e3779b1) ^ Math.imul((b >>> 0) + 0x7f4a7c15, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x27d4eb2d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** A permutation of 0..n-1 drawn from `seed` (Fisher–Yates). */
export function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
