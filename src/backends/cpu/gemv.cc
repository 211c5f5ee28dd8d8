// Decoding GEMMs on packed inference weights: C (M, N) (+)= X (M, K) W^T for the few rows of a
// decode step (M = 1 .. a small batch), W (N, K) stored as
//   bf16: N x K uint16 (the upper half of each fp32),
//   q8:   N x K int8 codes q and one fp32 scale d per 32 consecutive k of a row (q8_0-style;
//         weight = q * d), K a multiple of 32.
// Batch-1 decoding is bound by reading the weights, so the weights are dequantised in registers
// while streamed (fused) and never written out; activations and accumulation stay fp32, so the
// result is the fp32 product with the rounded weights. Each row of W is read once for all M rows of X
// (in groups of 8; 4 on AVX2), rows of W in address order; output columns are split over threads in chunks of
// 16 rows of W.
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

MM_CLONES static void gemv_q8_generic(float* C, i64 ldc, const float* X, i64 M, const int8_t* Q, const float* S, i64 j0, i64 j1, i64 K, bool acc) {
  const i64 nb = K / 32;
  for (i64 j = j0; j < j1; j++) {
    for (i64 i = 0; i < M; i++) {
      const float* x = X + i * K;
      float s = 0.f;
      for (i64 b = 0; b < nb; b++) {
        const int8_t* q = Q + j * K + b * 32;
        float t = 0.f;
#pragma omp simd reduction(+ : t)
        for (int k = 0; k < 32; k++) t += x[b * 32 + k] * (float)q[k];
        s += t * S[j * nb + b];
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
MM_GEMV512 static inline __m512 q8x16(const int8_t* p) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)p))); }

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

// q8: per block of 32 k, t = x . q (two 16-wide halves), then s += t * d; blocks alternate between
// U accumulators.
template <int MI, int U>
MM_GEMV512 static void q8_row(float* C, i64 ldc, const float* X, const int8_t* Q, const float* S, i64 j, i64 K, bool acc) {
  const i64 nb = K / 32;
  const int8_t* q = Q + j * K;
  const float* d = S + j * nb;
  __m512 s[MI][U];
  for (int i = 0; i < MI; i++)
    for (int u = 0; u < U; u++) s[i][u] = _mm512_setzero_ps();
  i64 b = 0;
  for (; b + U <= nb; b += U) {
    for (int u = 0; u < U; u++) {
      const __m512 w0 = q8x16(q + (b + u) * 32), w1 = q8x16(q + (b + u) * 32 + 16), dv = _mm512_set1_ps(d[b + u]);
      for (int i = 0; i < MI; i++) {
        const float* x = X + i * K + (b + u) * 32;
        s[i][u] = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_loadu_ps(x + 16), w1, _mm512_mul_ps(_mm512_loadu_ps(x), w0)), dv, s[i][u]);
      }
    }
  }
  for (; b < nb; b++) {
    const __m512 w0 = q8x16(q + b * 32), w1 = q8x16(q + b * 32 + 16), dv = _mm512_set1_ps(d[b]);
    for (int i = 0; i < MI; i++) {
      const float* x = X + i * K + b * 32;
      s[i][0] = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_loadu_ps(x + 16), w1, _mm512_mul_ps(_mm512_loadu_ps(x), w0)), dv, s[i][0]);
    }
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
  for (i64 i = 0; i < M; i += 8) {
    const i64 mi = std::min<i64>(8, M - i);
    float* c = C + i * ldc;
    const float* x = X + i * K;
    for (i64 j = j0; j < j1; j++) {
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
template <int MI, int U>
struct Q8Row {
  MM_GEMV512 static void run(float* c, i64 ldc, const float* x, i64 j, i64 K, const int8_t* Q, const float* S, bool acc) {
    q8_row<MI, U>(c, ldc, x, Q, S, j, K, acc);
  }
};

MM_GEMV512 static void gemv_f32_avx512(float* C, i64 ldc, const float* X, i64 M, const float* W, i64 j0, i64 j1, i64 K, bool acc) {
  rows_by_group<F32Row>(M, j0, j1, C, ldc, X, K, W, acc);
}
MM_GEMV512 static void gemv_bf16_avx512(float* C, i64 ldc, const float* X, i64 M, const uint16_t* W, i64 j0, i64 j1, i64 K, bool acc) {
  rows_by_group<Bf16Row>(M, j0, j1, C, ldc, X, K, W, acc);
}
MM_GEMV512 static void gemv_q8_avx512(float* C, i64 ldc, const float* X, i64 M, const int8_t* Q, const float* S, i64 j0, i64 j1, i64 K, bool acc) {
  rows_by_group<Q8Row>(M, j0, j1, C, ldc, X, K, Q, S, acc);
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
MM_GEMV256 static inline __m256 q8x8(const int8_t* p) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)p))); }

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

// q8: per block of 32 k, t = x . q (four 8-wide quarters), s += t * d
template <int MI>
MM_GEMV256 static void q8_row_avx2(float* C, i64 ldc, const float* X, const int8_t* Q, const float* S, i64 j, i64 K, bool acc) {
  const i64 nb = K / 32;
  const int8_t* q = Q + j * K;
  const float* d = S + j * nb;
  __m256 s[MI];
  for (int i = 0; i < MI; i++) s[i] = _mm256_setzero_ps();
  for (i64 b = 0; b < nb; b++) {
    const __m256 w0 = q8x8(q + b * 32), w1 = q8x8(q + b * 32 + 8), w2 = q8x8(q + b * 32 + 16), w3 = q8x8(q + b * 32 + 24);
    const __m256 dv = _mm256_set1_ps(d[b]);
    for (int i = 0; i < MI; i++) {
      const float* x = X + i * K + b * 32;
      __m256 t = _mm256_mul_ps(_mm256_loadu_ps(x), w0);
      t = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8), w1, t);
      t = _mm256_fmadd_ps(_mm256_loadu_ps(x + 16), w2, t);
      t = _mm256_fmadd_ps(_mm256_loadu_ps(x + 24), w3, t);
      s[i] = _mm256_fmadd_ps(t, dv, s[i]);
    }
  }
  for (int i = 0; i < MI; i++) {
    const float v = hsum8(s[i]);
    float* c = C + i * ldc + j;
    *c = acc ? *c + v : v;
  }
}

MM_GEMV256 static void gemv_bf16_avx2(float* C, i64 ldc, const float* X, i64 M, const uint16_t* W, i64 j0, i64 j1, i64 K, bool acc) {
  for (i64 i = 0; i < M; i += 4) {
    const i64 mi = std::min<i64>(4, M - i);
    float* c = C + i * ldc;
    const float* x = X + i * K;
    for (i64 j = j0; j < j1; j++) {
      if (mi == 4) bf16_row_avx2<4>(c, ldc, x, W, j, K, acc);
      else if (mi == 3) bf16_row_avx2<3>(c, ldc, x, W, j, K, acc);
      else if (mi == 2) bf16_row_avx2<2>(c, ldc, x, W, j, K, acc);
      else bf16_row_avx2<1>(c, ldc, x, W, j, K, acc);
    }
  }
}
MM_GEMV256 static void gemv_q8_avx2(float* C, i64 ldc, const float* X, i64 M, const int8_t* Q, const float* S, i64 j0, i64 j1, i64 K, bool acc) {
  for (i64 i = 0; i < M; i += 4) {
    const i64 mi = std::min<i64>(4, M - i);
    float* c = C + i * ldc;
    const float* x = X + i * K;
    for (i64 j = j0; j < j1; j++) {
      if (mi == 4) q8_row_avx2<4>(c, ldc, x, Q, S, j, K, acc);
      else if (mi == 3) q8_row_avx2<3>(c, ldc, x, Q, S, j, K, acc);
      else if (mi == 2) q8_row_avx2<2>(c, ldc, x, Q, S, j, K, acc);
      else q8_row_avx2<1>(c, ldc, x, Q, S, j, K, acc);
    }
  }
}
#endif

// Column chunks of 16 rows of W over the threads, when each gets a sizeable share of the weights.
template <class F>
static void split_columns(i64 N, i64 K, int nthreads, F body) {
  const int nt = (int)std::min<i64>(nthreads, std::max<i64>(1, (N * K) / (1 << 16)));
  if (nt <= 1) {
    body((i64)0, N);
    return;
  }
  parallel_tasks(nt, nt, [&](i64 t) {
    const i64 blocks = (N + 15) / 16, b0 = blocks * t / nt, b1 = blocks * (t + 1) / nt;
    const i64 j0 = std::min(N, b0 * 16), j1 = std::min(N, b1 * 16);
    if (j0 < j1) body(j0, j1);
  });
}

bool gemv_f32(float* C, i64 ldc, const float* X, const float* W, i64 M, i64 N, i64 K, bool acc, int nthreads) {
#ifdef MM_X86_INTRIN
  if (current_isa() < ISA_AVX512) return false;
  if (M > 0 && N > 0) split_columns(N, K, nthreads, [&](i64 j0, i64 j1) { gemv_f32_avx512(C, ldc, X, M, W, j0, j1, K, acc); });
  return true;
#else
  return false;
#endif
}

void gemv_bf16(float* C, const float* X, const uint16_t* W, i64 M, i64 N, i64 K, bool acc, int nthreads) {
  if (M <= 0 || N <= 0) return;
  const Isa isa = current_isa();
  split_columns(N, K, nthreads, [&](i64 j0, i64 j1) {
#ifdef MM_X86_INTRIN
    if (isa >= ISA_AVX512) return gemv_bf16_avx512(C, N, X, M, W, j0, j1, K, acc);
    if (isa >= ISA_AVX2) return gemv_bf16_avx2(C, N, X, M, W, j0, j1, K, acc);
#endif
    (void)isa;
    gemv_bf16_generic(C, N, X, M, W, j0, j1, K, acc);
  });
}

void gemv_q8(float* C, const float* X, const int8_t* Q, const float* S, i64 M, i64 N, i64 K, bool acc, int nthreads) {
  if (M <= 0 || N <= 0) return;
  const Isa isa = current_isa();
  split_columns(N, K, nthreads, [&](i64 j0, i64 j1) {
#ifdef MM_X86_INTRIN
    if (isa >= ISA_AVX512) return gemv_q8_avx512(C, N, X, M, Q, S, j0, j1, K, acc);
    if (isa >= ISA_AVX2) return gemv_q8_avx2(C, N, X, M, Q, S, j0, j1, K, acc);
#endif
    (void)isa;
    gemv_q8_generic(C, N, X, M, Q, S, j0, j1, K, acc);
  });
}

}  // namespace mm
