// GEMM, the definition: out (M, N) (+)= op(a) (M, K) @ op(b) (K, N).
// a is stored (M, K), or (K, M) when transA; b is (K, N), or (N, K) when transB.
import type { HostFBuf as FBuf } from '../backend.js';

export function matmul(out: FBuf, a: FBuf, b: FBuf, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let p = 0; p < K; p++) {
        const av = transA ? a[p * M + i] : a[i * K + p];
        const bv = transB ? b[j * K + p] : b[p * N + j];
        s += av * bv;
      }
      out[i * N + j] = accumulate ? out[i * N + j] + s : s;
    }
  }
}
