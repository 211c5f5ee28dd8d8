// Packed, cache-blocked SGEMM. Loop nest (BLIS): jc over N in NC columns -> pc over K in KC ->
// pack a KC x NC panel of op(B) into NR-wide slivers -> ic over M in MC rows -> pack an MC x KC
// block of op(A) into MR-tall slivers -> every (NR sliver, MR sliver) pair runs the micro-kernel,
// which keeps an MR x NR tile of C in registers over the whole KC depth. Packing turns every
// transpose case into the same contiguous access pattern, so one kernel serves NN, NT, TN, TT.
// Threads share the packed panels: packing is split by sliver, the tiles of a block are split in
// contiguous chunks (B sliver stays in L1 across consecutive tiles). Micro-kernels: AVX-512 12x32,
// AVX2 6x16, portable 4x16 (auto-vectorised; NEON on ARM), chosen at run time.
#include "gemm.h"
#include "bf16.h"  // transpose16
#include "gemv.h"
#ifdef MM_X86_INTRIN
#include <immintrin.h>
#endif

namespace mm {

typedef void (*KernelFn)(i64 kc, const float* a, const float* b, float* c, i64 ldc, bool acc);

// ---------------------------------------------------------------- portable micro-kernel 4 x 16
static void kernel_generic(i64 kc, const float* a, const float* b, float* c, i64 ldc, bool acc) {
  enum { MR = 4, NR = 16 };
  float t[MR][NR];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) t[i][j] = 0.f;
  for (i64 k = 0; k < kc; k++) {
    const float* bk = b + k * NR;
    const float* ak = a + k * MR;
    for (int i = 0; i < MR; i++) {
      float ai = ak[i];
      for (int j = 0; j < NR; j++) t[i][j] += ai * bk[j];
    }
  }
  for (int i = 0; i < MR; i++) {
    float* ci = c + i * ldc;
    if (acc)
      for (int j = 0; j < NR; j++) ci[j] += t[i][j];
    else
      for (int j = 0; j < NR; j++) ci[j] = t[i][j];
  }
}

#ifdef MM_X86_INTRIN
// ---------------------------------------------------------------- AVX2 micro-kernel 6 x 16
__attribute__((target("avx2,fma"))) static void kernel_avx2(i64 kc, const float* a, const float* b, float* c, i64 ldc, bool acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (i64 k = 0; k < kc; k++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 a0 = _mm256_broadcast_ss(a + 0), a1 = _mm256_broadcast_ss(a + 1);
    c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);
    c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
    a0 = _mm256_broadcast_ss(a + 2); a1 = _mm256_broadcast_ss(a + 3);
    c20 = _mm256_fmadd_ps(a0, b0, c20); c21 = _mm256_fmadd_ps(a0, b1, c21);
    c30 = _mm256_fmadd_ps(a1, b0, c30); c31 = _mm256_fmadd_ps(a1, b1, c31);
    a0 = _mm256_broadcast_ss(a + 4); a1 = _mm256_broadcast_ss(a + 5);
    c40 = _mm256_fmadd_ps(a0, b0, c40); c41 = _mm256_fmadd_ps(a0, b1, c41);
    c50 = _mm256_fmadd_ps(a1, b0, c50); c51 = _mm256_fmadd_ps(a1, b1, c51);
    a += 6; b += 16;
  }
#define MM_ST(r, x0, x1)                                                            \
  {                                                                                 \
    float* cr = c + (r) * ldc;                                                      \
    if (acc) { x0 = _mm256_add_ps(x0, _mm256_loadu_ps(cr)); x1 = _mm256_add_ps(x1, _mm256_loadu_ps(cr + 8)); } \
    _mm256_storeu_ps(cr, x0); _mm256_storeu_ps(cr + 8, x1);                         \
  }
  MM_ST(0, c00, c01) MM_ST(1, c10, c11) MM_ST(2, c20, c21) MM_ST(3, c30, c31) MM_ST(4, c40, c41) MM_ST(5, c50, c51)
#undef MM_ST
}

// ---------------------------------------------------------------- AVX-512 micro-kernel 12 x 32
#define MM_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
MM_AVX512 static void kernel_avx512(i64 kc, const float* a, const float* b, float* c, i64 ldc, bool acc) {
  __m512 x0 = _mm512_setzero_ps(), y0 = x0, x1 = x0, y1 = x0, x2 = x0, y2 = x0, x3 = x0, y3 = x0;
  __m512 x4 = x0, y4 = x0, x5 = x0, y5 = x0, x6 = x0, y6 = x0, x7 = x0, y7 = x0;
  __m512 x8 = x0, y8 = x0, x9 = x0, y9 = x0, x10 = x0, y10 = x0, x11 = x0, y11 = x0;
#define MM_STEP(i, X, Y) { __m512 ai = _mm512_set1_ps(a[i]); X = _mm512_fmadd_ps(ai, b0, X); Y = _mm512_fmadd_ps(ai, b1, Y); }
  for (i64 k = 0; k < kc; k++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    _mm_prefetch((const char*)(b + 256), _MM_HINT_T0);
    MM_STEP(0, x0, y0) MM_STEP(1, x1, y1) MM_STEP(2, x2, y2) MM_STEP(3, x3, y3)
    MM_STEP(4, x4, y4) MM_STEP(5, x5, y5) MM_STEP(6, x6, y6) MM_STEP(7, x7, y7)
    MM_STEP(8, x8, y8) MM_STEP(9, x9, y9) MM_STEP(10, x10, y10) MM_STEP(11, x11, y11)
    a += 12; b += 32;
  }
#undef MM_STEP
#define MM_ST(r, X, Y)                                                              \
  {                                                                                 \
    float* cr = c + (r) * ldc;                                                      \
    if (acc) { X = _mm512_add_ps(X, _mm512_loadu_ps(cr)); Y = _mm512_add_ps(Y, _mm512_loadu_ps(cr + 16)); } \
    _mm512_storeu_ps(cr, X); _mm512_storeu_ps(cr + 16, Y);                          \
  }
  MM_ST(0, x0, y0) MM_ST(1, x1, y1) MM_ST(2, x2, y2) MM_ST(3, x3, y3) MM_ST(4, x4, y4) MM_ST(5, x5, y5)
  MM_ST(6, x6, y6) MM_ST(7, x7, y7) MM_ST(8, x8, y8) MM_ST(9, x9, y9) MM_ST(10, x10, y10) MM_ST(11, x11, y11)
#undef MM_ST
}
#endif

struct KernelInfo {
  int mr, nr;
  KernelFn fn;
  i64 mc, kc, nc;  // cache blocking
};

static KernelInfo kernel_for(Isa isa) {
#ifdef MM_X86_INTRIN
  if (isa >= ISA_AVX512) return {12, 32, kernel_avx512, 48, 512, 2048};  // blocking measured on a quiet Xeon (bench notes: docs/CHANGELOG.md, 2026-11-28)
  if (isa == ISA_AVX2) return {6, 16, kernel_avx2, 96, 256, 2048};
#endif
  (void)isa;
  return {4, 16, kernel_generic, 96, 256, 2048};
}

#ifdef MM_X86_INTRIN
// pack_a's row-major case on AVX-512 for slivers of 12 rows: 16 k of the 12 rows at a time, transposed in
// registers (the scalar loops' strided stores were ~7 % of an fp32 training step, 6 % of bench/gemm's
// mix; ~2.5 % with both cases vectorised). Returns the k done.
MM_AVX512 static i64 pack_a12_avx512(float* d, const float* A, i64 lda, i64 row0, i64 rows, i64 k0, i64 kc) {
  __m512i r[16];
  i64 k = 0;
  for (; k + 16 <= kc; k += 16) {
    for (int t = 0; t < 16; t++) r[t] = t < rows ? _mm512_castps_si512(_mm512_loadu_ps(A + (row0 + t) * lda + k0 + k)) : _mm512_setzero_si512();
    transpose16(r);  // r[kk] lane t = row t at k + kk
    for (int kk = 0; kk < 16; kk++) _mm512_mask_storeu_ps(d + (k + kk) * 12, (__mmask16)0x0FFF, _mm512_castsi512_ps(r[kk]));
  }
  return k;
}
// pack_a's transposed case (op(A) = A^T: each k holds the 12 rows contiguously) on AVX-512.
MM_AVX512 static void pack_a12t_avx512(float* d, const float* A, i64 lda, i64 row0, i64 rows, i64 k0, i64 kc) {
  const __mmask16 m = (__mmask16)((1u << rows) - 1);
  for (i64 k = 0; k < kc; k++) _mm512_mask_storeu_ps(d + k * 12, (__mmask16)0x0FFF, _mm512_maskz_loadu_ps(m, A + (k0 + k) * lda + row0));
}
#endif

// Packs op(A)[i0 : i0+mc, k0 : k0+kc] into slivers s0 .. s1 of MR rows: dst[s][k][r], zero-padded.
static void pack_a(float* dst, const float* A, i64 lda, bool transA, i64 i0, i64 mc, i64 k0, i64 kc, int MR, i64 s0, i64 s1) {
  for (i64 s = s0; s < s1; s++) {
    float* d = dst + s * kc * MR;
    i64 r0 = s * MR, rows = std::min<i64>(MR, mc - r0);
#ifdef MM_X86_INTRIN
    if (!transA && MR == 12 && current_isa() >= ISA_AVX512) {
      const i64 kd = pack_a12_avx512(d, A, lda, i0 + r0, rows, k0, kc);
      for (i64 k = kd; k < kc; k++)
        for (i64 r = 0; r < MR; r++) d[k * MR + r] = r < rows ? A[(i0 + r0 + r) * lda + k0 + k] : 0.f;
      continue;
    }
    if (transA && MR == 12 && current_isa() >= ISA_AVX512) {
      pack_a12t_avx512(d, A, lda, i0 + r0, rows, k0, kc);
      continue;
    }
#endif
    if (!transA) {
      // A(i, k) = A[i * lda + k]: read rows contiguously, write strided.
      for (i64 r = 0; r < rows; r++) {
        const float* src = A + (i0 + r0 + r) * lda + k0;
        for (i64 k = 0; k < kc; k++) d[k * MR + r] = src[k];
      }
      for (i64 r = rows; r < MR; r++)
        for (i64 k = 0; k < kc; k++) d[k * MR + r] = 0.f;
    } else {
      // A(i, k) = A[k * lda + i]: each k gives MR contiguous values.
      for (i64 k = 0; k < kc; k++) {
        const float* src = A + (k0 + k) * lda + i0 + r0;
        float* dk = d + k * MR;
        i64 r = 0;
        for (; r < rows; r++) dk[r] = src[r];
        for (; r < MR; r++) dk[r] = 0.f;
      }
    }
  }
}

// Packs op(B)[k0 : k0+kc, j0 : j0+nc] into slivers s0 .. s1 of NR columns: dst[s][k][c], zero-padded.
static void pack_b(float* dst, const float* B, i64 ldb, bool transB, i64 k0, i64 kc, i64 j0, i64 nc, int NR, i64 s0, i64 s1) {
  for (i64 s = s0; s < s1; s++) {
    float* d = dst + s * kc * NR;
    i64 c0 = s * NR, cols = std::min<i64>(NR, nc - c0);
    if (!transB) {
      for (i64 k = 0; k < kc; k++) {
        const float* src = B + (k0 + k) * ldb + j0 + c0;
        float* dk = d + k * NR;
        i64 c = 0;
        for (; c < cols; c++) dk[c] = src[c];
        for (; c < NR; c++) dk[c] = 0.f;
      }
    } else {
      // B(k, j) = B[j * ldb + k]: one row of B per column of the sliver.
      for (i64 c = 0; c < cols; c++) {
        const float* src = B + (j0 + c0 + c) * ldb + k0;
        for (i64 k = 0; k < kc; k++) d[k * NR + c] = src[k];
      }
      for (i64 c = cols; c < NR; c++)
        for (i64 k = 0; k < kc; k++) d[k * NR + c] = 0.f;
    }
  }
}

// Offset of the (pc block, sliver) pair in a fully packed op(B) of kblocks x slivers.
static inline i64 packed_b_offset(i64 pc, i64 kc, i64 sliver, i64 npad, int NR) {
  (void)NR;
  return pc * npad + sliver * kc * NR;  // pc * npad = (pc / KC) * (KC * npad); slivers of this block are kc * NR apart
}

// One thread's GEMM: the BLIS loop nest on the calling thread. Bpre, when given, is op(B) already
// packed for every K block (see sgemm); otherwise B is packed here, block by block.
static void sgemm_serial(const KernelInfo& ki, bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B,
                         i64 ldb, float* C, i64 ldc, bool accumulate, const float* Bpre = nullptr) {
  const int MR = ki.mr, NR = ki.nr;
  const i64 MC = ki.mc, KC = std::min<i64>(ki.kc, K), NC = Bpre ? N : ki.nc;
  const i64 npad = (N + NR - 1) / NR * NR;
  const i64 nc_max = std::min<i64>(NC, npad);
  const i64 mc_max = std::min<i64>(MC, (M + MR - 1) / MR * MR);
  float* Bp = Bpre ? nullptr : scratch(0, (size_t)KC * nc_max);
  float* Ap = scratch(1, (size_t)KC * mc_max);
  alignas(64) float tmp[32 * 32];
  for (i64 jc = 0; jc < N; jc += NC) {
    const i64 nc = std::min<i64>(NC, N - jc);
    const i64 nsl_n = (nc + NR - 1) / NR;
    for (i64 pc = 0; pc < K; pc += KC) {
      const i64 kc = std::min<i64>(KC, K - pc);
      const bool acc = accumulate || pc > 0;
      const float* Bblk;
      if (Bpre) {
        Bblk = Bpre + packed_b_offset(pc, kc, 0, npad, NR);
      } else {
        pack_b(Bp, B, ldb, transB, pc, kc, jc, nc, NR, 0, nsl_n);
        Bblk = Bp;
      }
      for (i64 ic = 0; ic < M; ic += MC) {
        const i64 mc = std::min<i64>(MC, M - ic);
        const i64 nsl_m = (mc + MR - 1) / MR;
        pack_a(Ap, A, lda, transA, ic, mc, pc, kc, MR, 0, nsl_m);
        for (i64 sj = 0; sj < nsl_n; sj++) {
          const float* bp = Bblk + sj * kc * NR;
          const i64 j = jc + sj * NR, cols = std::min<i64>(NR, N - j);
          for (i64 si = 0; si < nsl_m; si++) {
            const i64 i = ic + si * MR, rows = std::min<i64>(MR, M - i);
            const float* ap = Ap + si * kc * MR;
            if (rows == MR && cols == NR) {
              ki.fn(kc, ap, bp, C + i * ldc + j, ldc, acc);
            } else {
              ki.fn(kc, ap, bp, tmp, NR, false);
              for (i64 r = 0; r < rows; r++) {
                float* cr = C + (i + r) * ldc + j;
                const float* tr = tmp + r * NR;
                if (acc)
                  for (i64 c = 0; c < cols; c++) cr[c] += tr[c];
                else
                  for (i64 c = 0; c < cols; c++) cr[c] = tr[c];
              }
            }
          }
        }
      }
    }
  }
}

// ---- few rows (decode: M = batch of 1..8 tokens): no packing, the weights are read once ----
MM_CLONES float dot_k(const float* a, const float* b, i64 K) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (i64 k = 0; k < K; k++) s += a[k] * b[k];
  return s;
}
MM_CLONES void axpy_k(float* y, const float* x, float alpha, i64 n) {
  for (i64 j = 0; j < n; j++) y[j] += alpha * x[j];
}

// C (M, N) (+)= op(A) op(B) for small M: columns of C split over threads. op(A) rows are made
// contiguous first (copied when transA), then NT = dot products of weight rows, NN = row axpys.
static void sgemm_small_m(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C,
                          i64 ldc, bool accumulate, int nthreads) {
  const float* a = A;
  i64 la = lda;
  float* tmp = nullptr;
  if (transA) {
    tmp = scratch(3, (size_t)M * K);
    for (i64 i = 0; i < M; i++)
      for (i64 k = 0; k < K; k++) tmp[i * K + k] = A[k * lda + i];
    a = tmp;
    la = K;
  }
  // weight rows (NT, contiguous): the AVX-512 GEMV reads each row of B once for all M rows of A
  if (transB && ldb == K && la == K && gemv_f32(C, ldc, a, B, M, N, K, accumulate, nthreads)) return;
  auto body = [&](i64 j0, i64 j1) {
    if (transB) {
      for (i64 i = 0; i < M; i++)
        for (i64 j = j0; j < j1; j++) {
          float d = dot_k(a + i * la, B + j * ldb, K);
          C[i * ldc + j] = accumulate ? C[i * ldc + j] + d : d;
        }
    } else {
      for (i64 i = 0; i < M; i++) {
        float* c = C + i * ldc + j0;
        if (!accumulate) std::memset(c, 0, sizeof(float) * (j1 - j0));
        for (i64 k = 0; k < K; k++) axpy_k(c, B + k * ldb + j0, a[i * la + k], j1 - j0);
      }
    }
  };
  // threads only when each gets a sizeable share of the weights (>= 64 K floats)
  int nt = (int)std::min<i64>(nthreads, std::max<i64>(1, (N * K) / (1 << 16)));
  if (nt <= 1) {
    body(0, N);
    return;
  }
  // split on multiples of 16 columns so each thread's NN row slices stay aligned
  parallel_tasks(nt, nt, [&](i64 t) {
    const i64 blocks = (N + 15) / 16, b0 = blocks * t / nt, b1 = blocks * (t + 1) / nt;
    const i64 j0 = std::min(N, b0 * 16), j1 = std::min(N, b1 * 16);
    if (j0 < j1) body(j0, j1);
  });
}

// Threads. Tall C (the usual case: M = batch x time): op(B) is packed once, all K blocks, by all
// threads together (one barrier), then row chunks of C are handed out dynamically and each thread
// packs only its own rows of A. Wide C (M small): column chunks, each an independent serial GEMM.
// Dynamic hand-out keeps a thread that gets descheduled (the machine is shared) from stalling the rest.
void sgemm(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb,
           float* C, i64 ldc, bool accumulate, int nthreads) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (i64 i = 0; i < M; i++) std::memset(C + i * ldc, 0, sizeof(float) * N);
    return;
  }
  // up to 32 rows against contiguous weight rows (NT: decode steps of a small batch, a few routed
  // tokens, short prefills): the AVX-512 GEMV reads the weights without packing them (serve's
  // measurement, one thread: 20 rows x 6400 x 512 6.1 -> 2.2 ms, 32 rows x 1408 x 512 1.1 -> 0.48 ms)
  if (M <= 32 && !transA && transB && lda == K && ldb == K && (double)N * K >= 4096 && gemv_f32(C, ldc, A, B, M, N, K, accumulate, nthreads))
    return;
  if (M <= 4 && (double)N * K >= 4096) {
    sgemm_small_m(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
    return;
  }
  const KernelInfo ki = kernel_for(current_isa());
  if ((double)M * N * K < 1.0e6 || nthreads < 2) {
    sgemm_serial(ki, transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    return;
  }
  const int MR = ki.mr, NR = ki.nr;
  if (M >= 2 * ki.mc * nthreads || M >= N) {
    const i64 KC = std::min<i64>(ki.kc, K);
    const i64 npad = (N + NR - 1) / NR * NR, nsl = npad / NR, nkb = (K + KC - 1) / KC;
    float* Bpre = scratch(4, (size_t)npad * K);
    i64 chunk = (M + 3 * nthreads - 1) / (3 * nthreads);
    chunk = std::max<i64>(chunk, 2 * MR);
    chunk = (chunk + MR - 1) / MR * MR;
    const i64 nchunks = (M + chunk - 1) / chunk;
    // job 1: pack op(B), a few slivers per task
    const i64 per = std::max<i64>(1, nsl / (2 * nthreads)), ntb = (nsl + per - 1) / per;
    parallel_tasks(nkb * ntb, nthreads, [&](i64 t) {
      const i64 kb = t / ntb, s0 = (t % ntb) * per, s1 = std::min(nsl, s0 + per);
      const i64 pc = kb * KC, kc = std::min<i64>(KC, K - pc);
      pack_b(Bpre + packed_b_offset(pc, kc, 0, npad, NR), B, ldb, transB, pc, kc, 0, N, NR, s0, s1);
    });
    // job 2: row chunks of C
    parallel_tasks(nchunks, nthreads, [&](i64 c) {
      const i64 s = c * chunk, n = std::min<i64>(chunk, M - s);
      const float* As = transA ? A + s : A + s * lda;
      sgemm_serial(ki, transA, transB, n, N, K, As, lda, B, ldb, C + s * ldc, ldc, accumulate, Bpre);
    });
    return;
  }
  i64 chunk = (N + 3 * nthreads - 1) / (3 * nthreads);
  chunk = std::max<i64>(chunk, 2 * NR);
  chunk = (chunk + NR - 1) / NR * NR;
  const i64 nchunks = (N + chunk - 1) / chunk;
  parallel_tasks(nchunks, nthreads, [&](i64 c) {
    const i64 s = c * chunk, n = std::min<i64>(chunk, N - s);
    const float* Bs = transB ? B + s * ldb : B + s;
    sgemm_serial(ki, transA, transB, M, n, K, A, lda, Bs, ldb, C + s, ldc, accumulate);
  });
}

}  // namespace mm
