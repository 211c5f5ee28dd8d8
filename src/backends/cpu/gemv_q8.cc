// Matmuls against q8 weights: C (M, N) (+)= X (M, K) W^T, W (N, K) stored q8_0-style (int8 codes q
// and one fp16 scale d per 32 consecutive k of a row, weight = q * d: llama.cpp's Q8_0). The codes are kept offset by
// 128, as unsigned bytes u = q + 128 (the backend converts them when a weight is registered), which
// is the operand order vpdpbusd wants. The activations are quantised the same way per row and block
// of 32 (dx = max|x| / 127, xq = x * 127 / max|x| rounded to nearest even, the rounding of
// llama.cpp's AVX quantize_row_q8_0), so each block is one exact int32 dot product, scaled in fp32:
//   C[i][j] = sum_b float(sum_k xq[i][b][k] * q[j][b][k]) * (dx[i][b] * d[j][b])
// i.e. the fp32 product of the dequantised activations with the dequantised weights (llama.cpp's
// Q8_0 x Q8_0 dot), on every path below:
//   AVX512-VNNI: vpdpbusd(u, xq) = sum (q + 128) xq, 64 products an instruction, started from
//                -128 * sum(xq) (one vector per 64 inputs, made once per row of X and shared by
//                every row of W), so one instruction per 64 weights gives sum q xq exactly;
//   AVX2:        q = u ^ 0x80, then vpmaddubsw on |xq| and q with xq's sign (llama.cpp's trick),
//                vpmaddwd to int32;
//   portable:    int32 loops the compiler vectorises (widening multiplies; an `omp simd` pragma here
//                made GCC emit a much slower loop).
// Every row of W is read once for up to 8 rows of X (4 on AVX2); for more rows, blocks of 16 rows
// of W stay in cache while all row groups pass over them. Columns are split over threads.
#include "gemv.h"
#ifdef MM_X86_INTRIN
#include <immintrin.h>
#endif

namespace mm {

// An fp16 bit pattern as fp32 (exact; the portable path's scales).
static inline float half_to_float(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  uint32_t bits;
  if (e == 0x1f) bits = sign | 0x7f800000u | (m << 13);  // inf / NaN
  else if (e != 0) bits = sign | ((e + 112) << 23) | (m << 13);
  else if (m == 0) bits = sign;
  else {  // subnormal: m * 2^-24
    float f = (float)m * 5.9604644775390625e-8f;
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// xq (M x K) and dx (M x K/32): the activations' blocks quantised as described above.
MM_CLONES static void quantize_rows(const float* X, i64 M, i64 K, int8_t* xq, float* dx) {
  const i64 nb = K / 32;
  for (i64 i = 0; i < M; i++)
    for (i64 b = 0; b < nb; b++) {
      const float* x = X + i * K + b * 32;
      float amax = 0.f;
      for (int k = 0; k < 32; k++) amax = std::max(amax, std::fabs(x[k]));
      const float id = amax > 0.f ? 127.f / amax : 0.f;
      dx[i * nb + b] = amax / 127.f;
      int8_t* q = xq + i * K + b * 32;
      for (int k = 0; k < 32; k++) {
        float v = std::nearbyint(x[k] * id);
        v = std::min(127.f, std::max(-127.f, v));  // (NaN in x: its block's scale is NaN anyway)
        q[k] = (int8_t)(int32_t)v;
      }
    }
}

// ---------------------------------------------------------------- portable
MM_CLONES static void q8_portable(float* C, i64 ldc, const int8_t* XQ, const float* DX, i64 M, const uint8_t* Q, const uint16_t* S, i64 j0, i64 j1,
                                  i64 K, bool acc) {
  const i64 nb = K / 32;
  for (i64 j = j0; j < j1; j++)
    for (i64 i = 0; i < M; i++) {
      float s = 0.f;
      for (i64 b = 0; b < nb; b++) {
        const int8_t* x = XQ + i * K + b * 32;
        const uint8_t* q = Q + j * K + b * 32;
        int32_t t = 0;
        for (int k = 0; k < 32; k++) t += (int32_t)x[k] * ((int32_t)q[k] - 128);
        s += (float)t * (DX[i * nb + b] * half_to_float(S[j * nb + b]));
      }
      C[i * ldc + j] = acc ? C[i * ldc + j] + s : s;
    }
}

#ifdef MM_X86_INTRIN
// ---------------------------------------------------------------- AVX512-VNNI
#define MM_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

// The fp16 scales of two consecutive blocks as fp32, in lanes 0 and 1.
MM_VNNI static inline __m128 scale_pair(const uint16_t* d) {
  uint32_t two;
  std::memcpy(&two, d, 4);
  return _mm_cvtph_ps(_mm_cvtsi32_si128((int)two));
}

// One row j of W against MI rows of X: XQ = the signed codes, NX = per pair of blocks (64 inputs) 16
// int32 lanes summing to -128 * sum(xq) lane by lane (the start value of vpdpbusd), XS = per pair 16
// floats, dx of the first block in lanes 0-7 and of the second in lanes 8-15 (vpdpbusd's lanes 0-7
// sum the first 32 bytes of a 64-byte load). NX and XS rows lds apart. An odd last block runs 256
// bits wide. Two pairs a step for a single row of X (two independent accumulators).
template <int MI>
MM_VNNI static void q8_row_vnni(float* C, i64 ldc, const int8_t* XQ, const int32_t* NX, const float* XS, i64 lds, const uint8_t* Q, const uint16_t* S,
                                i64 j, i64 K, bool acc) {
  const i64 nb = K / 32, np = nb / 2;
  const uint8_t* q = Q + j * K;
  const uint16_t* d = S + j * nb;
  const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  constexpr int U = MI == 1 ? 2 : 1;
  __m512 s[MI][U];
  for (int i = 0; i < MI; i++)
    for (int u = 0; u < U; u++) s[i][u] = _mm512_setzero_ps();
  i64 p = 0;
  for (; p + U <= np; p += U) {
    for (int u = 0; u < U; u++) {
      const __m512i w = _mm512_loadu_si512(q + (p + u) * 64);
      const __m512 dw = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(scale_pair(d + 2 * (p + u))));
      for (int i = 0; i < MI; i++) {
        const __m512i t = _mm512_dpbusd_epi32(_mm512_loadu_si512(NX + i * lds + (p + u) * 16), w, _mm512_loadu_si512(XQ + i * K + (p + u) * 64));
        s[i][u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(dw, _mm512_loadu_ps(XS + i * lds + (p + u) * 16)), s[i][u]);
      }
    }
  }
  for (; p < np; p++) {  // U = 2 and an odd number of pairs
    const __m512i w = _mm512_loadu_si512(q + p * 64);
    const __m512 dw = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(scale_pair(d + 2 * p)));
    for (int i = 0; i < MI; i++) {
      const __m512i t = _mm512_dpbusd_epi32(_mm512_loadu_si512(NX + i * lds + p * 16), w, _mm512_loadu_si512(XQ + i * K + p * 64));
      s[i][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(dw, _mm512_loadu_ps(XS + i * lds + p * 16)), s[i][0]);
    }
  }
  float tail[MI];
  for (int i = 0; i < MI; i++) tail[i] = 0.f;
  if (nb & 1) {
    const __m256i w = _mm256_loadu_si256((const __m256i*)(q + np * 64));
    const __m256 dw = _mm256_set1_ps(_cvtsh_ss(d[nb - 1]));
    for (int i = 0; i < MI; i++) {
      const __m256i t = _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i*)(NX + i * lds + np * 16)), w, _mm256_loadu_si256((const __m256i*)(XQ + i * K + np * 64)));
      const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(t), _mm256_mul_ps(dw, _mm256_loadu_ps(XS + i * lds + np * 16)));
      __m128 h = _mm_add_ps(_mm256_castps256_ps128(f), _mm256_extractf128_ps(f, 1));
      h = _mm_add_ps(h, _mm_movehl_ps(h, h));
      tail[i] = _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
    }
  }
  for (int i = 0; i < MI; i++) {
    for (int u = 1; u < U; u++) s[i][0] = _mm512_add_ps(s[i][0], s[i][u]);
    const float v = _mm512_reduce_add_ps(s[i][0]) + tail[i];
    float* c = C + i * ldc + j;
    *c = acc ? *c + v : v;
  }
}

MM_VNNI static void q8_vnni(float* C, i64 ldc, const int8_t* XQ, const int32_t* NX, const float* XS, i64 lds, i64 M, const uint8_t* Q, const uint16_t* S,
                            i64 j0, i64 j1, i64 K, bool acc) {
  for (i64 jb = j0; jb < j1; jb += 16) {
    const i64 je = std::min(j1, jb + 16);
    for (i64 i = 0; i < M; i += 8) {
      const i64 mi = std::min<i64>(8, M - i);
      float* c = C + i * ldc;
      const int8_t* xq = XQ + i * K;
      const int32_t* nx = NX + i * lds;
      const float* xs = XS + i * lds;
      for (i64 j = jb; j < je; j++) {
        switch (mi) {
          case 8: q8_row_vnni<8>(c, ldc, xq, nx, xs, lds, Q, S, j, K, acc); break;
          case 7: q8_row_vnni<7>(c, ldc, xq, nx, xs, lds, Q, S, j, K, acc); break;
          case 6: q8_row_vnni<6>(c, ldc, xq, nx, xs, lds, Q, S, j, K, acc); break;
          case 5: q8_row_vnni<5>(c, ldc, xq, nx, xs, lds, Q, S, j, K, acc); break;
          case 4: q8_row_vnni<4>(c, ldc, xq, nx, xs, lds, Q, S, j, K, acc); break;
          case 3: q8_row_vnni<3>(c, ldc, xq, nx, xs, lds, Q, S, j, K, acc); break;
          case 2: q8_row_vnni<2>(c, ldc, xq, nx, xs, lds, Q, S, j, K, acc); break;
          default: q8_row_vnni<1>(c, ldc, xq, nx, xs, lds, Q, S, j, K, acc); break;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- AVX2
#define MM_Q8AVX2 __attribute__((target("avx2,fma,f16c")))

template <int MI>
MM_Q8AVX2 static void q8_row_avx2(float* C, i64 ldc, const int8_t* XQ, const float* DX, const uint8_t* Q, const uint16_t* S, i64 j, i64 K, bool acc) {
  const i64 nb = K / 32;
  const uint8_t* q = Q + j * K;
  const __m256i c128 = _mm256_set1_epi8((char)0x80);
  const uint16_t* d = S + j * nb;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 s[MI];
  for (int i = 0; i < MI; i++) s[i] = _mm256_setzero_ps();
  for (i64 b = 0; b < nb; b++) {
    const __m256i w = _mm256_xor_si256(_mm256_loadu_si256((const __m256i*)(q + b * 32)), c128);  // the signed codes
    for (int i = 0; i < MI; i++) {
      const __m256i x = _mm256_loadu_si256((const __m256i*)(XQ + i * K + b * 32));
      // |x| * (w with x's sign): unsigned x signed bytes, pairs summed to int16 (|products| <= 2 * 127^2, no saturation)
      const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(w, x));
      const __m256i t = _mm256_madd_epi16(p16, ones);
      s[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_set1_ps(DX[i * nb + b] * _cvtsh_ss(d[b])), s[i]);
    }
  }
  for (int i = 0; i < MI; i++) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s[i]), _mm256_extractf128_ps(s[i], 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    const float v = _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
    float* c = C + i * ldc + j;
    *c = acc ? *c + v : v;
  }
}

MM_Q8AVX2 static void q8_avx2(float* C, i64 ldc, const int8_t* XQ, const float* DX, i64 M, const uint8_t* Q, const uint16_t* S, i64 j0, i64 j1, i64 K,
                              bool acc) {
  const i64 nb = K / 32;
  for (i64 jb = j0; jb < j1; jb += 16) {
    const i64 je = std::min(j1, jb + 16);
    for (i64 i = 0; i < M; i += 4) {
      const i64 mi = std::min<i64>(4, M - i);
      float* c = C + i * ldc;
      const int8_t* x = XQ + i * K;
      const float* dx = DX + i * nb;
      for (i64 j = jb; j < je; j++) {
        if (mi == 4) q8_row_avx2<4>(c, ldc, x, dx, Q, S, j, K, acc);
        else if (mi == 3) q8_row_avx2<3>(c, ldc, x, dx, Q, S, j, K, acc);
        else if (mi == 2) q8_row_avx2<2>(c, ldc, x, dx, Q, S, j, K, acc);
        else q8_row_avx2<1>(c, ldc, x, dx, Q, S, j, K, acc);
      }
    }
  }
}

// The VNNI kernel's view of the quantised activations: per pair of blocks, the start values
// -128 * (sum of each 4-byte group of xq) and each block's scale in 8 lanes of the pair's vector.
MM_VNNI static void vnni_operands(const int8_t* xq, const float* dx, i64 M, i64 K, i64 lds, int32_t* nx, float* xs) {
  const i64 nb = K / 32, np = nb / 2;
  const __m512i c128 = _mm512_set1_epi8((char)0x80);
  for (i64 i = 0; i < M; i++) {
    for (i64 p = 0; p < np; p++) {
      const __m512i x = _mm512_loadu_si512(xq + i * K + p * 64);
      _mm512_storeu_si512(nx + i * lds + p * 16, _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), c128, x)));
    }
    if (nb & 1) {
      const __m256i x = _mm256_loadu_si256((const __m256i*)(xq + i * K + np * 64));
      const __m256i c = _mm256_set1_epi8((char)0x80);
      _mm256_storeu_si256((__m256i*)(nx + i * lds + np * 16), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), c, x)));
    }
    for (i64 b = 0; b < nb; b++)
      for (int l = 0; l < 8; l++) xs[i * lds + (b / 2) * 16 + (b & 1) * 8 + l] = dx[i * nb + b];
  }
}

static bool has_vnni() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") != 0;
  }();
  return yes;
}
#endif

Q8Input q8_prepare(const float* X, i64 M, i64 K) {
  Q8Input in;
  in.M = M, in.K = K;
  const i64 nb = K / 32, lds = (nb + 1) / 2 * 16;
  // the quantised activations live in the calling thread's scratch; the workers only read them
  float* buf = scratch(6, (size_t)(M * K / 4 + M * nb + 2 * M * lds + 64));
  int8_t* xq = (int8_t*)buf;
  float* dx = buf + M * K / 4;
  quantize_rows(X, M, K, xq, dx);
  in.xq = xq, in.dx = dx;
#ifdef MM_X86_INTRIN
  const Isa isa = current_isa();
  if (isa >= ISA_AVX512BF16 && has_vnni()) {
    float* xs = dx + M * nb;
    int32_t* nx = (int32_t*)(xs + M * lds);
    vnni_operands(xq, dx, M, K, lds, nx, xs);
    in.nx = nx, in.xs = xs, in.lds = lds, in.path = 2;
    return in;
  }
  if (isa >= ISA_AVX2) {
    in.path = 1;
    return in;
  }
#endif
  in.path = 0;
  return in;
}

void q8_columns(float* C, i64 ldc, const Q8Input& in, const uint8_t* Q, const uint16_t* S, i64 j0, i64 j1, bool acc) {
#ifdef MM_X86_INTRIN
  if (in.path == 2) return q8_vnni(C, ldc, in.xq, in.nx, in.xs, in.lds, in.M, Q, S, j0, j1, in.K, acc);
  if (in.path == 1) return q8_avx2(C, ldc, in.xq, in.dx, in.M, Q, S, j0, j1, in.K, acc);
#endif
  q8_portable(C, ldc, in.xq, in.dx, in.M, Q, S, j0, j1, in.K, acc);
}

void gemv_q8(float* C, const float* X, const uint8_t* Q, const uint16_t* S, i64 M, i64 N, i64 K, bool acc, int nthreads) {
  if (M <= 0 || N <= 0) return;
  const Q8Input in = q8_prepare(X, M, K);
  split_columns(N, K, nthreads, [&](i64 j0, i64 j1) { q8_columns(C, N, in, Q, S, j0, j1, acc); });
}

}  // namespace mm
