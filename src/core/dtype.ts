// Element types. float32 is the working type everywhere; float64 exists so that finite-difference
// gradient checks on the js backend are exact enough to mean something; int32 holds token ids
// and indices. bf16 and f16 are not DTypes yet: in files, formats/ converts them on load; bf16 GEMM
// operands and, on CUDA, bf16 activations and their gradients are a float32 tensor's storage
// (Storage.lowp / bf16 in core/tensor.ts, ops/precision.ts).

export type DType = 'float32' | 'float64' | 'int32';

/** A contiguous host array of one of the engine's dtypes. */
export type HostArray = Float32Array | Float64Array | Int32Array;
/** Float buffers as the CPU backends see them. */
export type FloatArray = Float32Array | Float64Array;

export function allocHost(dtype: DType, size: number): HostArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
  }
}

export function dtypeOf(a: HostArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}
