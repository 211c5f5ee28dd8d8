// Matrix products. matmul works on 2-D tensors with optional transposes; linear applies a
// PyTorch/HF weight (out_features, in_features) to x (..., in_features), as nn.Linear does.
//   forward  y = x W^T            (matmul transB)
//   backward dx += dy W           (NN)      dW += dy^T x      (TN)
import { record, gradOut } from '../core/autograd.js';
import type { Tensor } from '../core/tensor.js';
import type { FBuf } from '../backends/backend.js';
import { emptyLike, fb, lastDim } from './util.js';
import { anyBuf, isLowPrecision, outputLike } from './precision.js';

export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error(`matmul: needs 2-D tensors, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [K2, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== K2) throw new Error(`matmul: inner sizes differ: [${a.shape.join(', ')}]${transA ? 'ᵀ' : ''} @ [${b.shape.join(', ')}]${transB ? 'ᵀ' : ''}`);
  const be = a.backend;
  const out = emptyLike(a, [M, N]);
  be.matmul(fb(out), fb(a, 'matmul'), fb(b, 'matmul'), M, N, K, transA, transB, false);
  return record(out, [a, b], (g) => {
    // out = A B with A = op(a), B = op(b):  dA = g B^T,  dB = A^T g
    if (a.requiresGrad) {
      const { grad, accumulate } = gradOut(a);
      if (!transA) be.matmul(fb(grad), fb(g), fb(b), M, K, N, false, !transB, accumulate);
      else be.matmul(fb(grad), fb(b), fb(g), K, M, N, transB, true, accumulate);
    }
    if (b.requiresGrad) {
      const { grad, accumulate } = gradOut(b);
      if (!transB) be.matmul(fb(grad), fb(a), fb(g), K, N, M, !transA, false, accumulate);
      else be.matmul(fb(grad), fb(g), fb(a), N, K, M, true, transA, accumulate);
    }
  });
}

/**
 * The GEMM operand for activation x under bf16 precision: its bf16 copy, made at its first GEMM and
 * kept with its storage, so an input shared by several projections (q, k, v; gate, up) and read
 * again by their weight gradients is rounded once. Only tensors recorded by autograd qualify: an
 * activation is never written after it is made, while parameters and caches change in place.
 */
function gemmOperand(x: Tensor, what: string): FBuf {
  const be = x.backend;
  if (!be.lowPrecisionCopy || be.matmulPrecision?.() !== 'bf16') return fb(x, what); // (a copy made before a switch to fp32 is not used)
  const st = x.storage;
  if (!st.lowp && x.node) st.lowp = be.lowPrecisionCopy(fb(x, what), x.size);
  return (st.lowp ?? fb(x, what)) as FBuf;
}

/** y (..., out) = x (..., in) @ weight^T, weight (out, in); stored in bf16 under bf16 activations (ops/precision.ts). */
export function linear(x: Tensor, weight: Tensor): Tensor {
  const inF = lastDim(x);
  const [outF, inW] = weight.shape;
  if (inF !== inW) throw new Error(`linear: input has ${inF} features but the weight [${weight.shape.join(', ')}] expects ${inW}`);
  const rows = x.size / inF;
  const be = x.backend;
  const out = outputLike(x, true, [...x.shape.slice(0, -1), outF]);
  be.matmul(anyBuf(out), gemmOperand(x, 'linear'), fb(weight, 'linear'), rows, outF, inF, false, true, false);
  return record(out, [x, weight], (g) => {
    // g feeds both gradient GEMMs: as stored when bf16 (the output was), else rounded to bf16 once
    // (under bf16 precision)
    const gl = !isLowPrecision(g) && x.requiresGrad && weight.requiresGrad ? (be.lowPrecisionCopy?.(fb(g), g.size) ?? null) : null;
    const gOp = gl ?? anyBuf(g);
    if (x.requiresGrad) {
      // a bf16 x (attention output, SwiGLU product) gets its gradient in bf16, as the GEMM writes it
      const { grad, accumulate } = gradOut(x, true);
      be.matmul(anyBuf(grad), gOp, fb(weight), rows, inF, outF, false, false, accumulate);
    }
    if (weight.requiresGrad) {
      const { grad, accumulate } = gradOut(weight);
      be.matmul(fb(grad), gOp, gemmOperand(x, 'linear'), outF, inF, rows, true, false, accumulate);
    }
    if (gl) be.free(gl);
  });
}
