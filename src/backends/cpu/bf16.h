// bf16 helpers shared by the bf16 GEMMs (AMX, AVX512-BF16) and the bf16 weight GEMV: scalar
// round-to-nearest-even conversion and AVX512-BF16 vector conversions / 16 x 16 transposes used
// while packing operands.
#pragma once
#include "common.h"
#ifdef MM_X86_INTRIN
#include <immintrin.h>
#endif

namespace mm {

// fp32 -> bf16, round to nearest even (what vcvtne2ps2bf16 does for finite values).
static inline uint16_t to_bf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  if ((b & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((b >> 16) | 0x40);  // NaN stays NaN
  b += 0x7FFFu + ((b >> 16) & 1u);
  return (uint16_t)(b >> 16);
}
static inline float from_bf16(uint16_t h) {
  uint32_t b = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
// Two bf16 as one 32-bit pair (lo = the even k): the operand unit of vdpbf16ps and AMX.
static inline uint32_t bf16_pair(float lo, float hi) { return (uint32_t)to_bf16(lo) | ((uint32_t)to_bf16(hi) << 16); }

#ifdef MM_X86_INTRIN
#define MM_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma")))

// 32 floats -> 32 bf16 in order (16 pairs (p[2j], p[2j+1]))
MM_AVX512BF16 static inline __m512i cvt32(const float* p) {
  return (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(p + 16), _mm512_loadu_ps(p));
}
// 16 floats of row a and 16 of row b -> 16 32-bit pairs (a_i, b_i) in bf16
MM_AVX512BF16 static inline __m512i pairs16(const float* a, const float* b) {
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1,
                                       16, 0);
  __m512i v = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(b), _mm512_loadu_ps(a));  // [a0..a15 | b0..b15]
  return _mm512_permutexvar_epi16(idx, v);
}
// In-register transpose of a 16 x 16 matrix of 32-bit elements (AVX-512F only: also used by the fp32
// GEMM's packing).
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))) static inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // r[4g + e] lane L = column 4L + e, rows 4g .. 4g+3
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  __m512i o[16];
  for (int e = 0; e < 4; e++) {
    __m512i u0 = _mm512_shuffle_i32x4(r[e], r[4 + e], 0x44), u1 = _mm512_shuffle_i32x4(r[e], r[4 + e], 0xEE);
    __m512i u2 = _mm512_shuffle_i32x4(r[8 + e], r[12 + e], 0x44), u3 = _mm512_shuffle_i32x4(r[8 + e], r[12 + e], 0xEE);
    o[0 + e] = _mm512_shuffle_i32x4(u0, u2, 0x88);
    o[4 + e] = _mm512_shuffle_i32x4(u0, u2, 0xDD);
    o[8 + e] = _mm512_shuffle_i32x4(u1, u3, 0x88);
    o[12 + e] = _mm512_shuffle_i32x4(u1, u3, 0xDD);
  }
  for (int i = 0; i < 16; i++) r[i] = o[i];
}
#endif

}  // namespace mm
