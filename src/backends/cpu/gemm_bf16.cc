// bf16 GEMM on AVX512-BF16 (vdpbf16ps: AMD Zen 4/5, Intel Cooper Lake and later), for CPUs without
// AMX, and sgemm_bf16, which picks AMX, this kernel or the fp32 sgemm by the ISA level in use.
// Arithmetic: operands rounded to bf16 (nearest even) while being packed, each vdpbf16ps adds the
// products of a pair of k's to fp32 accumulators, C stays fp32 (PyTorch's bf16 autocast for matmuls).
// Layout: the unit is a 32-bit pair (op(X)(i, 2p), op(X)(i, 2p + 1)). op(B) is packed once for all
// threads and all K as [k block][32-column sliver][pair][32]; each task packs its own rows of op(A)
// as [12-row sliver][pair][12]. The 12 x 32 micro-kernel keeps 24 zmm accumulators: per pair it loads
// two B vectors, broadcasts 12 A pairs and issues 24 vdpbf16ps (64 flops each, twice fp32 FMA's).
// Tasks are (row block, column chunk) pairs handed out dynamically, as in the fp32 GEMM.
#include "gemm.h"
#include "bf16.h"
#if defined(MM_X86_INTRIN)
#include <cpuid.h>
#endif

namespace mm {

#if defined(MM_X86_INTRIN)
static bool detect_avx512bf16() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl")) return false;
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5));  // CPUID.(7,1):EAX[5] = AVX512_BF16
}
bool avx512bf16_available() {
  static const bool ok = detect_avx512bf16();
  return ok;
}

enum { MR = 12, NR = 32 };
static const i64 KC = 512;  // k per block (256 pairs): a B sliver is 32 KB, an A sliver 12 KB
static const i64 MC = 96;   // rows per task

// 16 floats at a and at b (the first `n` of each) -> 16 pairs (a_i, b_i); lanes >= n are 0.
MM_AVX512BF16 static inline __m512i pairs16m(const float* a, const float* b, int n) {
  const __mmask16 m = (__mmask16)((1u << n) - 1);
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1,
                                       16, 0);
  __m512i v = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m, b), _mm512_maskz_loadu_ps(m, a));
  return _mm512_permutexvar_epi16(idx, v);
}

// Packs one sliver of W lanes (rows of op(A) or columns of op(B)) over k in [k0, k0 + kc) into
// d[pair][W] (pairs = ceil(kc / 2)); element (lane w, k) is X[(x0 + w) * ld + k] when !kmajor,
// X[k * ld + x0 + w] when kmajor. Lanes >= n and the odd k past kc are zero.
MM_AVX512BF16 static void pack_sliver(uint32_t* d, int W, const float* X, i64 ld, bool kmajor, i64 x0, int n, i64 k0, i64 kc) {
  const i64 kp = (kc + 1) / 2;
  auto at = [&](int w, i64 k) -> float { return w < n && k < kc ? (kmajor ? X[(k0 + k) * ld + x0 + w] : X[(x0 + w) * ld + k0 + k]) : 0.f; };
  i64 pdone = 0;
  if (!kmajor) {
    // each lane is contiguous in k: 32 k of 16 lanes at a time, converted then transposed
    __m512i r[16];
    i64 q = 0;
    for (; q + 32 <= kc; q += 32) {
      for (int w0 = 0; w0 < W; w0 += 16) {
        const int lanes = std::min(16, W - w0);
        for (int t = 0; t < 16; t++) r[t] = w0 + t < n ? cvt32(X + (x0 + w0 + t) * ld + k0 + q) : _mm512_setzero_si512();
        transpose16(r);  // r[p] lane t = pair p of lane w0 + t
        const __mmask16 m = (__mmask16)((1u << lanes) - 1);
        for (int p = 0; p < 16; p++) _mm512_mask_storeu_epi32(d + (q / 2 + p) * W + w0, m, r[p]);
      }
    }
    pdone = q / 2;
  } else {
    // each k is a contiguous row of lanes: two rows at a time make 16 pairs
    for (; 2 * pdone + 1 < kc; pdone++) {
      const float* r0 = X + (k0 + 2 * pdone) * ld + x0;
      for (int w0 = 0; w0 < W; w0 += 16) {
        const int lanes = std::min(16, W - w0), valid = std::max(0, std::min(lanes, n - w0));
        _mm512_mask_storeu_epi32(d + pdone * W + w0, (__mmask16)((1u << lanes) - 1), pairs16m(r0 + w0, r0 + ld + w0, valid));
      }
    }
  }
  for (i64 p = pdone; p < kp; p++)
    for (int w = 0; w < W; w++) d[p * W + w] = bf16_pair(at(w, 2 * p), at(w, 2 * p + 1));
}

// C[12 x 32] (+)= A sliver (kp pairs x 12) . B sliver (kp pairs x 32)
MM_AVX512BF16 static void kernel_dpbf16(i64 kp, const uint32_t* a, const uint32_t* b, float* c, i64 ldc, bool acc) {
  __m512 x0 = _mm512_setzero_ps(), y0 = x0, x1 = x0, y1 = x0, x2 = x0, y2 = x0, x3 = x0, y3 = x0;
  __m512 x4 = x0, y4 = x0, x5 = x0, y5 = x0, x6 = x0, y6 = x0, x7 = x0, y7 = x0;
  __m512 x8 = x0, y8 = x0, x9 = x0, y9 = x0, x10 = x0, y10 = x0, x11 = x0, y11 = x0;
#define MM_STEP(i, X, Y)                                                   \
  {                                                                        \
    const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);            \
    X = _mm512_dpbf16_ps(X, ai, b0);                                       \
    Y = _mm512_dpbf16_ps(Y, ai, b1);                                       \
  }
  for (i64 p = 0; p < kp; p++) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
    _mm_prefetch((const char*)(b + 512), _MM_HINT_T0);
    MM_STEP(0, x0, y0) MM_STEP(1, x1, y1) MM_STEP(2, x2, y2) MM_STEP(3, x3, y3)
    MM_STEP(4, x4, y4) MM_STEP(5, x5, y5) MM_STEP(6, x6, y6) MM_STEP(7, x7, y7)
    MM_STEP(8, x8, y8) MM_STEP(9, x9, y9) MM_STEP(10, x10, y10) MM_STEP(11, x11, y11)
    a += MR;
    b += NR;
  }
#undef MM_STEP
#define MM_ST(r, X, Y)                                                                                          \
  {                                                                                                             \
    float* cr = c + (r) * ldc;                                                                                  \
    if (acc) { X = _mm512_add_ps(X, _mm512_loadu_ps(cr)); Y = _mm512_add_ps(Y, _mm512_loadu_ps(cr + 16)); } \
    _mm512_storeu_ps(cr, X);                                                                                    \
    _mm512_storeu_ps(cr + 16, Y);                                                                               \
  }
  MM_ST(0, x0, y0) MM_ST(1, x1, y1) MM_ST(2, x2, y2) MM_ST(3, x3, y3) MM_ST(4, x4, y4) MM_ST(5, x5, y5)
  MM_ST(6, x6, y6) MM_ST(7, x7, y7) MM_ST(8, x8, y8) MM_ST(9, x9, y9) MM_ST(10, x10, y10) MM_ST(11, x11, y11)
#undef MM_ST
}

MM_AVX512BF16 static void run_dpbf16(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb,
                                     float* C, i64 ldc, bool accumulate, int nthreads) {
  const i64 nkb = (K + KC - 1) / KC, nsl = (N + NR - 1) / NR, npad = nsl * NR;
  const i64 kpfull = KC / 2;
  // op(B): element (lane j, k) is B[j * ldb + k] when transB, B[k * ldb + j] otherwise
  uint32_t* Bp = (uint32_t*)scratch(5, (size_t)(nkb * kpfull * npad));
  auto bblock = [&](i64 kb, i64 sj) {
    const i64 kp = (std::min(KC, K - kb * KC) + 1) / 2;
    return Bp + kb * kpfull * npad + sj * kp * NR;
  };
  if ((double)M * N * K < 1.0e6) nthreads = 1;
  const i64 per = std::max<i64>(1, nsl / (2 * std::max(1, nthreads))), ntb = (nsl + per - 1) / per;
  parallel_tasks(nkb * ntb, nthreads, [&](i64 t) {
    const i64 kb = t / ntb, s0 = (t % ntb) * per, s1 = std::min(nsl, s0 + per), k0 = kb * KC, kc = std::min(KC, K - k0);
    for (i64 s = s0; s < s1; s++) pack_sliver(bblock(kb, s), NR, B, ldb, !transB, s * NR, (int)std::min<i64>(NR, N - s * NR), k0, kc);
  });
  // tasks: row blocks x column chunks, at least ~3 per thread
  const i64 nrb = (M + MC - 1) / MC;
  const i64 ncb = std::min<i64>(nsl, std::max<i64>(1, (3 * nthreads + nrb - 1) / nrb));
  const i64 spc = (nsl + ncb - 1) / ncb;  // slivers per column chunk
  parallel_tasks(nrb * ncb, nthreads, [&](i64 t) {
    const i64 rb = t / ncb, cb = t % ncb, i0 = rb * MC, mc = std::min(MC, M - i0), nsm = (mc + MR - 1) / MR;
    const i64 sj0 = cb * spc, sj1 = std::min(nsl, sj0 + spc);
    uint32_t* Ap = (uint32_t*)scratch(1, (size_t)(nsm * MR * kpfull));
    alignas(64) float tmp[MR * NR];
    for (i64 kb = 0; kb < nkb; kb++) {
      const i64 k0 = kb * KC, kc = std::min(KC, K - k0), kp = (kc + 1) / 2;
      const bool acc = accumulate || kb > 0;
      // op(A): element (lane i, k) is A[k * lda + i] when transA, A[i * lda + k] otherwise
      for (i64 si = 0; si < nsm; si++)
        pack_sliver(Ap + si * kp * MR, MR, A, lda, transA, i0 + si * MR, (int)std::min<i64>(MR, mc - si * MR), k0, kc);
      for (i64 sj = sj0; sj < sj1; sj++) {
        const uint32_t* bp = bblock(kb, sj);
        const i64 j = sj * NR, cols = std::min<i64>(NR, N - j);
        for (i64 si = 0; si < nsm; si++) {
          const i64 i = i0 + si * MR, rows = std::min<i64>(MR, M - i);
          const uint32_t* ap = Ap + si * kp * MR;
          if (rows == MR && cols == NR) {
            kernel_dpbf16(kp, ap, bp, C + i * ldc + j, ldc, acc);
          } else {
            kernel_dpbf16(kp, ap, bp, tmp, NR, false);
            for (i64 r = 0; r < rows; r++) {
              float* cr = C + (i + r) * ldc + j;
              const float* tr = tmp + r * NR;
              if (acc)
                for (i64 q = 0; q < cols; q++) cr[q] += tr[q];
              else
                for (i64 q = 0; q < cols; q++) cr[q] = tr[q];
            }
          }
        }
      }
    }
  });
}

void sgemm_dpbf16(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                  bool accumulate, int nthreads) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || !avx512bf16_available()) {
    sgemm(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
    return;
  }
  run_dpbf16(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
}

#else
bool avx512bf16_available() { return false; }
void sgemm_dpbf16(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                  bool accumulate, int nthreads) {
  sgemm(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
}
#endif

void sgemm_bf16(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                bool accumulate, int nthreads) {
  const Isa isa = current_isa();
  if (M <= 4 || isa < ISA_AVX512BF16)  // few rows: the fp32 path reads the weights once, unpacked
    sgemm(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
  else if (isa == ISA_AMX)
    sgemm_amx(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
  else
    sgemm_dpbf16(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
}

}  // namespace mm
