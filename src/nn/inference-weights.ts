// Weight storage for inference: `--weights fp32|bf16|q8` on generate / chat / bench generate.
//   bf16: every weight matrix rounded to bf16 (nearest even);
//   q8:   llama.cpp's Q8_0: each run of 32 consecutive inputs of a weight row gets one scale
//         d = max|w| / 127, stored as fp16, and int8 codes q = round(w / d), so w ~ q * fp16(d) —
//         bit for bit ggml's quantize_row_q8_0_ref (and our GGUF export's q8_0).
// The model's fp32 weights are replaced by the values the format encodes (so every kernel, on any
// backend, computes with the same weights: embedding lookups, prefill GEMMs, the js backend), and
// on the native CPU backend a packed copy is registered, which decode steps read through fused
// dequantising GEMV kernels: 2 bytes (bf16) or 1.0625 bytes (q8) per weight instead of 4. That is
// where batch-1 decoding spends its time. There, q8 matmuls also quantise their input rows per 32
// (llama.cpp's Q8_0 x Q8_0 dot: int8 products, src/backends/cpu/gemv_q8.cc); the js backend
// multiplies fp32 inputs by the rounded weights. 1-D weights (norms) and the MoE router stay fp32.
import type { Module } from './module.js';
import { tensor, type Tensor } from '../core/tensor.js';
import type { CpuBackend, PackedWeight } from '../backends/cpu/index.js';
import { halfBitsToNumber, numberToHalfBits } from '../formats/halfFloat.js';

export const WEIGHT_FORMATS = ['fp32', 'bf16', 'q8'] as const;
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];
/** Inputs per q8 scale. */
export const Q8_BLOCK = 32;

const f32 = new Float32Array(1);

/** Rounds w to bf16 (nearest even) in place; returns the bf16 bits. */
export function quantizeBf16(w: Float32Array): Uint16Array {
  const bits = new Uint16Array(w.length);
  const view = new Uint32Array(w.buffer, w.byteOffset, w.length);
  for (let i = 0; i < w.length; i++) {
    const b = view[i];
    const r = (b & 0x7fffffff) > 0x7f800000 ? (b | 0x400000) >>> 16 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // NaN stays NaN
    bits[i] = r;
    view[i] = (r << 16) >>> 0;
  }
  return bits;
}

/**
 * Q8_0 quantisation of w (N rows of K, K a multiple of 32) in place: w becomes q * d. As ggml's
 * quantize_row_q8_0_ref: d = max|w| / 127, codes round(w * (1 / d)) in fp32, half away from zero;
 * the scale kept is d rounded to fp16 (so scales holds fp16 values, as float32).
 */
export function quantizeQ8(w: Float32Array, K: number): { codes: Int8Array; scales: Float32Array } {
  if (K % Q8_BLOCK !== 0) throw new Error(`quantizeQ8: rows of ${K} inputs are not a multiple of ${Q8_BLOCK}`);
  const nb = w.length / Q8_BLOCK;
  const codes = new Int8Array(w.length), scales = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const o = b * Q8_BLOCK;
    let amax = 0;
    for (let k = 0; k < Q8_BLOCK; k++) amax = Math.max(amax, Math.abs(w[o + k]));
    f32[0] = amax / 127;
    const d = f32[0];
    const id = d > 0 ? Math.fround(1 / d) : 0;
    const dh = halfBitsToNumber(numberToHalfBits(d));
    scales[b] = dh;
    for (let k = 0; k < Q8_BLOCK; k++) {
      const v = Math.fround(w[o + k] * id);
      const q = Math.max(-127, Math.min(127, Math.sign(v) * Math.round(Math.abs(v)))) || 0; // half away from zero, as roundf; no -0
      codes[o + k] = q;
      f32[0] = q * dh;
      w[o + k] = f32[0];
    }
  }
  return { codes, scales };
}
function isCpuWithPacking(be: unknown): be is CpuBackend {
  return typeof (be as Partial<CpuBackend>).registerPackedWeight === 'function';
}

/**
 * Puts the model's weight matrices in `format` for inference (see the file comment). Returns how many
 * matrices were converted and which were left fp32 (q8 needs rows of a multiple of 32 inputs).
 * Inference only: training afterwards would update the fp32 values but not the packed copies.
 */
export function useInferenceWeights(model: Module, format: WeightFormat): { converted: number; packed: number; kept: string[] } {
  const res = { converted: 0, packed: 0, kept: [] as string[] };
  if (format === 'fp32') return res;
  const seen = new Set<Tensor>();
  for (const [name, t] of model.namedParameters()) {
    if (t.shape.length !== 2 || t.dtype !== 'float32' || seen.has(t)) continue;
    seen.add(t);
    // The MoE router stays fp32, as llama.cpp keeps ffn_gate_inp (and our GGUF export writes it F32):
    // its top-k is a discrete choice that rounding would flip.
    if (name.endsWith('.mlp.gate.weight')) {
      res.kept.push(name);
      continue;
    }
    const [N, K] = t.shape;
    if (format === 'q8' && K % Q8_BLOCK !== 0) {
      res.kept.push(name);
      continue;
    }
    const w = t.toArray() as Float32Array;
    let p: PackedWeight;
    if (format === 'bf16') p = { format, N, K, data: quantizeBf16(w) };
    else {
      const { codes, scales } = quantizeQ8(w, K);
      p = { format, N, K, data: codes, scales };
    }
    const up = tensor(w, t.shape, t.dtype, t.backend);
    t.backend.copy(t.buf, up.buf, t.size);
    up.dispose();
    res.converted++;
    if (isCpuWithPacking(t.backend)) {
      t.backend.registerPackedWeight(t.buf, p);
      res.packed++;
    }
  }
  return res;
}
