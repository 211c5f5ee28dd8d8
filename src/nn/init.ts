// Parameter initialisation, done on the host with a seeded Rng and uploaded once.
//   normal(std)        MiniMind v1: N(0, 0.02) for Linear and Embedding
//   kaimingUniform     PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
import type { Rng } from '../core/random.js';

export function normalInit(size: number, std: number, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return out;
}

export function kaimingUniformInit(size: number, fanIn: number, rng: Rng): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

export function onesInit(size: number): Float32Array {
  return new Float32Array(size).fill(1);
}
