// The attention block products whose output is head-dim wide, C (m x D) (+)= A' B, in fp32 on AVX-512:
//   forward   O_b = P V          backward  dQ_b += dS K,  dK += dS^T Q_b,  dV += P^T dO_b
// with A' read in place through strides (a(i, k) = A[i * sa + k * sk], so P^T / dS^T need no copy) and
// B's rows (D floats each, ldb apart) read straight from the tensors. The packed SGEMM spent more time
// packing these operands than multiplying them: with D = 32 each packed element of P is used for only 32
// products (a v1-small training step profile: pack_a 18 %, the micro-kernel 45 % of attention). Here a
// tile of MI rows of C stays in registers over the whole k range; each k loads one row of B and
// broadcasts MI values of A'.
#include "kernels.h"
#ifdef MM_X86_INTRIN
#include <immintrin.h>
#endif

namespace mm {

#ifdef MM_X86_INTRIN
#define MM_ROWS512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))

template <int NV, int MI>
MM_ROWS512 static void rows_tile(float* C, i64 ldc, const float* A, i64 sa, i64 sk, const float* B, i64 ldb, i64 kdim, bool acc) {
  __m512 c[MI][NV];
  for (int i = 0; i < MI; i++)
    for (int v = 0; v < NV; v++) c[i][v] = _mm512_setzero_ps();
  for (i64 k = 0; k < kdim; k++) {
    __m512 b[NV];
    for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_ps(B + k * ldb + 16 * v);
    const float* a = A + k * sk;
    for (int i = 0; i < MI; i++) {
      const __m512 ai = _mm512_set1_ps(a[i * sa]);
      for (int v = 0; v < NV; v++) c[i][v] = _mm512_fmadd_ps(ai, b[v], c[i][v]);
    }
  }
  for (int i = 0; i < MI; i++)
    for (int v = 0; v < NV; v++) {
      float* p = C + i * ldc + 16 * v;
      _mm512_storeu_ps(p, acc ? _mm512_add_ps(_mm512_loadu_ps(p), c[i][v]) : c[i][v]);
    }
}

// MI rows at a time (NV * MI <= 16 accumulators), then single rows.
template <int NV>
MM_ROWS512 static void rows_all(float* C, i64 ldc, const float* A, i64 sa, i64 sk, const float* B, i64 ldb, i64 m, i64 kdim, bool acc) {
  constexpr int MI = NV >= 8 ? 2 : (NV >= 4 ? 4 : 8);
  i64 i = 0;
  for (; i + MI <= m; i += MI) rows_tile<NV, MI>(C + i * ldc, ldc, A + i * sa, sa, sk, B, ldb, kdim, acc);
  for (; i < m; i++) rows_tile<NV, 1>(C + i * ldc, ldc, A + i * sa, sa, sk, B, ldb, kdim, acc);
}
#endif

bool attention_rows_gemm(float* C, i64 ldc, const float* A, i64 sa, i64 sk, const float* B, i64 ldb, i64 m, i64 kdim, i64 D, bool acc) {
#ifdef MM_X86_INTRIN
  if (current_isa() < ISA_AVX512 || !(D == 16 || D == 32 || D == 64 || D == 128)) return false;
  switch (D / 16) {
    case 1: rows_all<1>(C, ldc, A, sa, sk, B, ldb, m, kdim, acc); break;
    case 2: rows_all<2>(C, ldc, A, sa, sk, B, ldb, m, kdim, acc); break;
    case 4: rows_all<4>(C, ldc, A, sa, sk, B, ldb, m, kdim, acc); break;
    default: rows_all<8>(C, ldc, A, sa, sk, B, ldb, m, kdim, acc); break;
  }
  return true;
#else
  (void)C, (void)ldc, (void)A, (void)sa, (void)sk, (void)B, (void)ldb, (void)m, (void)kdim, (void)D, (void)acc;
  return false;
#endif
}

}  // namespace mm
