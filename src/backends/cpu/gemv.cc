// Decoding GEMMs on fp32 and bf16 weights: C (M, N) (+)= X (M, K) W^T for the few rows of a decode
// step (M = 1 .. a small batch), W (N, K) stored as fp32 rows or bf16 (N x K uint16, the upper half of
// each fp32). (q8 weights: gemv_q8.cc.)
// Batch-1 decoding is bound by reading the weights, so the weights are widened in registers while
// streamed (fused) and never written out; activations and accumulation stay fp32, so the result is
// the fp32 product with the rounded weights. Each row of W is read once for up to 8 rows of X (4 on
// AVX2), rows of W in address order, in blocks of 16 rows that stay in cache while the row groups
// pass over them; output columns are split over threads in chunks of 16 rows of W.
#include "gemv.h"
#include "bf16.h"

namespace mm {

// ---------------------------------------------------------------- portable (auto-vectorised)
MM_CLONES static void gemv_bf16_generic(float* C, i64 ldc, const float* X, i64 M, const uint16_t* W, i64 j0, i64 j1, i64 K, bool acc) {
  for (i64 j = j0; j < j1; j++) {
    const uint16_t* w = W + j * K;
    for (i64 i = 0; i < M; i++) {
      const float* x = X + i * K;
      float s = 0.f;
#pragma omp simd reduction(+ : s)
      for (i64 k = 0; k < K; k++) {
        uint32_t b = (uint32_t)w[k] << 16;
        float f;
        std::memcpy(&f, &b, 4);
        s += x[k] * f;
      }
      C[i * ldc + j] = acc ? C[i * ldc + j] + s : s;
    }
  }
}

#ifdef MM_X86_INTRIN
#define MM_GEMV512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))

MM_GEMV512 static inline __m512 bf16x16(const uint16_t* p, __mmask16 m) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

// One row j of W against MI rows of X (1..4). Rows of W are taken one after another, so the
// weights stream from memory in address order (one sequential stream keeps the hardware prefetcher
// ahead; several interleaved rows of 1-2 KB each did not). U independent accumulators per row of X
// hide the FMA latency.
template <int MI, int U>
MM_GEMV512 static void bf16_row(float* C, i64 ldc, const float* X, const uint16_t* W, i64 j, i64 K, bool acc) {
  const uint16_t* w = W + j * K;
  __m512 s[MI][U];
  for (int i = 0; i < MI; i++)
    for (int u = 0; u < U; u++) s[i][u] = _mm512_setzero_ps();
  i64 k = 0;
  for (; k + 16 * U <= K; k += 16 * U) {
    __m512 wv[U];
    for (int u = 0; u < U; u++) wv[u] = bf16x16(w + k + 16 * u, (__mmask16)0xFFFF);
    for (int i = 0; i < MI; i++)
      for (int u = 0; u < U; u++) s[i][u] = _mm512_fmadd_ps(_mm512_loadu_ps(X + i * K + k + 16 * u), wv[u], s[i][u]);
  }
  for (; k < K; k += 16) {
    const __mmask16 m = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
    const __m512 wv = bf16x16(w + k, m);
    for (int i = 0; i < MI; i++) s[i][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, X + i * K + k), wv, s[i][0]);
  }
  for (int i = 0; i < MI; i++) {
    for (int u = 1; u < U; u++) s[i][0] = _mm512_add_ps(s[i][0], s[i][u]);
    const float v = _mm512_reduce_add_ps(s[i][0]);
    float* c = C + i * ldc + j;
    *c = acc ? *c + v : v;
  }
}

// The same for fp32 weights (decode steps without packed weights, M <= 4 rows of X).
template <int MI, int U>
MM_GEMV512 static void f32_row(float* C, i64 ldc, const float* X, const float* W, i64 j, i64 K, bool acc) {
  const float* w = W + j * K;
  __m512 s[MI][U];
  for (int i = 0; i < MI; i++)
    for (int u = 0; u < U; u++) s[i][u] = _mm512_setzero_ps();
  i64 k = 0;
  for (; k + 16 * U <= K; k += 16 * U) {
    __m512 wv[U];
    for (int u = 0; u < U; u++) wv[u] = _mm512_loadu_ps(w + k + 16 * u);
    for (int i = 0; i < MI; i++)
      for (int u = 0; u < U; u++) s[i][u] = _mm512_fmadd_ps(_mm512_loadu_ps(X + i * K + k + 16 * u), wv[u], s[i][u]);
  }
  for (; k < K; k += 16) {
    const __mmask16 m = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
    const __m512 wv = _mm512_maskz_loadu_ps(m, w + k);
    for (int i = 0; i < MI; i++) s[i][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, X + i * K + k), wv, s[i][0]);
  }
  for (int i = 0; i < MI; i++) {
    for (int u = 1; u < U; u++) s[i][0] = _mm512_add_ps(s[i][0], s[i][u]);
    const float v = _mm512_reduce_add_ps(s[i][0]);
    float* c = C + i * ldc + j;
    *c = acc ? *c + v : v;
  }
}

// Rows of X in groups of up to 8 (each row of W is read once per group): MI accumulator sets, U = 4
// independent chains for a single row, 2 otherwise (8 x 2 = 16 zmm accumulators at most).
template <template <int, int> class Row, class... A>
MM_GEMV512 static inline void rows_by_group(i64 M, i64 j0, i64 j1, float* C, i64 ldc, const float* X, i64 K, A... a) {
  for (i64 jb = j0; jb < j1; jb += 16)
  for (i64 i = 0; i < M; i += 8) {
    const i64 mi = std::min<i64>(8, M - i);
    float* c = C + i * ldc;
    const float* x = X + i * K;
    for (i64 j = jb; j < std::min(j1, jb + 16); j++) {
      switch (mi) {
        case 8: Row<8, 2>::run(c, ldc, x, j, K, a...); break;
        case 7: Row<7, 2>::run(c, ldc, x, j, K, a...); break;
        case 6: Row<6, 2>::run(c, ldc, x, j, K, a...); break;
        case 5: Row<5, 2>::run(c, ldc, x, j, K, a...); break;
        case 4: Row<4, 2>::run(c, ldc, x, j, K, a...); break;
        case 3: Row<3, 2>::run(c, ldc, x, j, K, a...); break;
        case 2: Row<2, 2>::run(c, ldc, x, j, K, a...); break;
        default: Row<1, 4>::run(c, ldc, x, j, K, a...); break;
      }
    }
  }
}
template <int MI, int U>
struct F32Row {
  MM_GEMV512 static void run(float* c, i64 ldc, const float* x, i64 j, i64 K, const float* W, bool acc) { f32_row<MI, U>(c, ldc, x, W, j, K, acc); }
};
template <int MI, int U>
struct Bf16Row {
  MM_GEMV512 static void run(float* c, i64 ldc, const float* x, i64 j, i64 K, const uint16_t* W, bool acc) { bf16_row<MI, U>(c, ldc, x, W, j, K, acc); }
};

// Batched decode steps (M >= 4 rows of X, e.g. a server's concurrent streams): tiles of MI rows of X
// x 4 rows of W. Each k-step loads 4 vectors of W and MI of X for 4 MI FMAs (rows_by_group: one of
// W and MI of X for MI FMAs), so the kernel is bound by FMAs rather than loads; the 4 sums of a
// row of X are reduced together into 4 adjacent outputs. MI = 4: 16 accumulators + 4 W vectors.
MM_GEMV512 static inline __m256 fold(__m512 v) { return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))); }
MM_GEMV512 static inline __m128 hsum4x16(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(fold(a), fold(b)), _mm256_hadd_ps(fold(c), fold(d)));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}
// Weights come from DRAM (a model's matrices together are far larger than L3), so while a group of
// 4 rows of W is in use, rows 4 groups ahead are prefetched into L2: each tile fetches NPF of those
// rows, one cache line of each per k-step, and the tiles of a group share out its 4 future rows.
// That keeps the stream in flight while the FMAs run instead of after them (v1-small's matrices at
// 16 rows, one thread: 14.5 -> 11.0 ms a step; the next 4 rows into L1 from the first tile, as
// before, gave 13.6). Prefetches past the end of W never fault.
constexpr i64 kPrefetchRows = 16;
template <int MI, int NPF>
MM_GEMV512 static void f32_tile4(float* C, i64 ldc, const float* X, const float* W, i64 j, i64 K, bool acc, const float* pf) {
  const float* w = W + j * K;
  __m512 s[MI][4];
  for (int i = 0; i < MI; i++)
    for (int u = 0; u < 4; u++) s[i][u] = _mm512_setzero_ps();
  i64 k = 0;
  for (; k + 16 <= K; k += 16) {
    for (int r = 0; r < NPF; r++) _mm_prefetch((const char*)(pf + r * K + k), _MM_HINT_T1);
    __m512 wv[4];
    for (int u = 0; u < 4; u++) wv[u] = _mm512_loadu_ps(w + u * K + k);
    for (int i = 0; i < MI; i++) {
      const __m512 x = _mm512_loadu_ps(X + i * K + k);
      for (int u = 0; u < 4; u++) s[i][u] = _mm512_fmadd_ps(x, wv[u], s[i][u]);
    }
  }
  if (k < K) {
    const __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
    __m512 wv[4];
    for (int u = 0; u < 4; u++) wv[u] = _mm512_maskz_loadu_ps(m, w + u * K + k);
    for (int i = 0; i < MI; i++) {
      const __m512 x = _mm512_maskz_loadu_ps(m, X + i * K + k);
      for (int u = 0; u < 4; u++) s[i][u] = _mm512_fmadd_ps(x, wv[u], s[i][u]);
    }
  }
  for (int i = 0; i < MI; i++) {
    __m128 v = hsum4x16(s[i][0], s[i][1], s[i][2], s[i][3]);
    float* c = C + i * ldc + j;
    if (acc) v = _mm_add_ps(v, _mm_loadu_ps(c));
    _mm_storeu_ps(c, v);
  }
}
template <int MI>
MM_GEMV512 static void f32_tile4_pf(float* C, i64 ldc, const float* X, const float* W, i64 j, i64 K, bool acc, const float* pf, i64 npf) {
  switch (npf) {
    case 0: return f32_tile4<MI, 0>(C, ldc, X, W, j, K, acc, pf);
    case 1: return f32_tile4<MI, 1>(C, ldc, X, W, j, K, acc, pf);
    case 2: return f32_tile4<MI, 2>(C, ldc, X, W, j, K, acc, pf);
    default: return f32_tile4<MI, 4>(C, ldc, X, W, j, K, acc, pf);
  }
}

MM_GEMV512 static void gemv_f32_avx512(float* C, i64 ldc, const float* X, i64 M, const float* W, i64 j0, i64 j1, i64 K, bool acc) {
  if (M < 4) return rows_by_group<F32Row>(M, j0, j1, C, ldc, X, K, W, acc);
  const i64 j4 = j0 + (j1 - j0) / 4 * 4, tiles = (M + 3) / 4;
  for (i64 j = j0; j < j4; j += 4) {
    // the 4 rows of W (4 K floats) stay in L1 while every row of X passes over them
    for (i64 t = 0; t < tiles; t++) {
      const i64 i = 4 * t, mi = std::min<i64>(4, M - i);
      // tile t prefetches rows [r0, r1) of the group kPrefetchRows ahead: 1, 2 or 4 of them (0 past 4 tiles)
      const i64 r0 = 4 * t / tiles, r1 = 4 * (t + 1) / tiles;
      const float* pf = W + (j + kPrefetchRows + r0) * K;
      float* c = C + i * ldc;
      const float* x = X + i * K;
      if (mi == 4) f32_tile4_pf<4>(c, ldc, x, W, j, K, acc, pf, r1 - r0);
      else if (mi == 3) f32_tile4_pf<3>(c, ldc, x, W, j, K, acc, pf, r1 - r0);
      else if (mi == 2) f32_tile4_pf<2>(c, ldc, x, W, j, K, acc, pf, r1 - r0);
      else f32_tile4_pf<1>(c, ldc, x, W, j, K, acc, pf, r1 - r0);
    }
  }
  if (j4 < j1) rows_by_group<F32Row>(M, j4, j1, C, ldc, X, K, W, acc);
}
MM_GEMV512 static void gemv_bf16_avx512(float* C, i64 ldc, const float* X, i64 M, const uint16_t* W, i64 j0, i64 j1, i64 K, bool acc) {
  rows_by_group<Bf16Row>(M, j0, j1, C, ldc, X, K, W, acc);
}
// ---------------------------------------------------------------- AVX2 (8 floats a vector)
#define MM_GEMV256 __attribute__((target("avx2,fma")))
MM_GEMV256 static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
MM_GEMV256 static inline __m256 bf16x8(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)p)), 16));
}

// bf16: 16 k per step (two 8-wide halves), scalar tail
template <int MI>
MM_GEMV256 static void bf16_row_avx2(float* C, i64 ldc, const float* X, const uint16_t* W, i64 j, i64 K, bool acc) {
  const uint16_t* w = W + j * K;
  __m256 s0[MI], s1[MI];
  for (int i = 0; i < MI; i++) s0[i] = s1[i] = _mm256_setzero_ps();
  i64 k = 0;
  for (; k + 16 <= K; k += 16) {
    const __m256 w0 = bf16x8(w + k), w1 = bf16x8(w + k + 8);
    for (int i = 0; i < MI; i++) {
      s0[i] = _mm256_fmadd_ps(_mm256_loadu_ps(X + i * K + k), w0, s0[i]);
      s1[i] = _mm256_fmadd_ps(_mm256_loadu_ps(X + i * K + k + 8), w1, s1[i]);
    }
  }
  for (int i = 0; i < MI; i++) {
    float v = hsum8(_mm256_add_ps(s0[i], s1[i]));
    for (i64 q = k; q < K; q++) v += X[i * K + q] * from_bf16(w[q]);
    float* c = C + i * ldc + j;
    *c = acc ? *c + v : v;
  }
}

MM_GEMV256 static void gemv_bf16_avx2(float* C, i64 ldc, const float* X, i64 M, const uint16_t* W, i64 j0, i64 j1, i64 K, bool acc) {
  for (i64 jb = j0; jb < j1; jb += 16)
  for (i64 i = 0; i < M; i += 4) {
    const i64 mi = std::min<i64>(4, M - i);
    float* c = C + i * ldc;
    const float* x = X + i * K;
    for (i64 j = jb; j < std::min(j1, jb + 16); j++) {
      if (mi == 4) bf16_row_avx2<4>(c, ldc, x, W, j, K, acc);
      else if (mi == 3) bf16_row_avx2<3>(c, ldc, x, W, j, K, acc);
      else if (mi == 2) bf16_row_avx2<2>(c, ldc, x, W, j, K, acc);
      else bf16_row_avx2<1>(c, ldc, x, W, j, K, acc);
    }
  }
}
#endif

bool gemv_f32(float* C, i64 ldc, const float* X, const float* W, i64 M, i64 N, i64 K, bool acc, int nthreads) {
#ifdef MM_X86_INTRIN
  if (current_isa() < ISA_AVX512) return false;
  // split_columns sizes the thread count by the N x K floats of W (one pass over them); from 4 rows
  // of X on, the tiles make ceil(M / 4) passes, so a smaller W is worth splitting (v1-small's k/v
  // projections, 128 x 512, at 16 rows)
  const i64 passes = M >= 4 ? (M + 3) / 4 : 1;
  if (M > 0 && N > 0) split_columns(N, K * passes, nthreads, [&](i64 j0, i64 j1) { gemv_f32_avx512(C, ldc, X, M, W, j0, j1, K, acc); });
  return true;
#else
  return false;
#endif
}

void bf16_columns(float* C, i64 ldc, const float* X, i64 M, const uint16_t* W, i64 j0, i64 j1, i64 K, bool acc) {
#ifdef MM_X86_INTRIN
  const Isa isa = current_isa();
  if (isa >= ISA_AVX512) return gemv_bf16_avx512(C, ldc, X, M, W, j0, j1, K, acc);
  if (isa >= ISA_AVX2) return gemv_bf16_avx2(C, ldc, X, M, W, j0, j1, K, acc);
#endif
  gemv_bf16_generic(C, ldc, X, M, W, j0, j1, K, acc);
}

bool f32_columns(float* C, i64 ldc, const float* X, i64 M, const float* W, i64 j0, i64 j1, i64 K, bool acc) {
#ifdef MM_X86_INTRIN
  if (current_isa() < ISA_AVX512) return false;
  gemv_f32_avx512(C, ldc, X, M, W, j0, j1, K, acc);
  return true;
#else
  (void)C, (void)ldc, (void)X, (void)M, (void)W, (void)j0, (void)j1, (void)K, (void)acc;
  return false;
#endif
}

void gemv_bf16(float* C, const float* X, const uint16_t* W, i64 M, i64 N, i64 K, bool acc, int nthreads) {
  if (M <= 0 || N <= 0) return;
  split_columns(N, K, nthreads, [&](i64 j0, i64 j1) { bf16_columns(C, N, X, M, W, j0, j1, K, acc); });
}

}  // namespace mm
