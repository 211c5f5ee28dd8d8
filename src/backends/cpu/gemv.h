// Decoding GEMMs on packed inference weights (bf16: gemv.cc, q8_0-style: gemv_q8.cc).
#pragma once
#include "common.h"

namespace mm {
// C (M, N) (+)= X (M, K) W^T, W (N, K) fp32, X rows contiguous (ld K), C rows ldc apart. Runs where the
// ISA level has AVX-512 and returns true; false = not run (the caller uses its own path).
bool gemv_f32(float* C, i64 ldc, const float* X, const float* W, i64 M, i64 N, i64 K, bool acc, int nthreads);
// C (M, N) (+)= X (M, K) W^T, W (N, K) in bf16.
void gemv_bf16(float* C, const float* X, const uint16_t* W, i64 M, i64 N, i64 K, bool acc, int nthreads);
// C (M, N) (+)= Xq (M, K) W^T, W[j][k] = (Q[j * K + k] - 128) * S[j * (K / 32) + k / 32] (S: fp16), K % 32 == 0
// (Q: the int8 codes offset by 128), and Xq = X with each run of 32 quantised the same way
// (llama.cpp's Q8_0 x Q8_0 arithmetic; gemv_q8.cc).
void gemv_q8(float* C, const float* X, const uint8_t* Q, const uint16_t* S, i64 M, i64 N, i64 K, bool acc, int nthreads);

// The same products one range of output columns [j0, j1) at a time, for callers that split the
// columns of several matrices over threads themselves (decode.cc: q, k and v in one job). C rows
// ldc apart. q8: the activations are quantised once by q8_prepare (into the calling thread's
// scratch slot 6, valid until its next q8_prepare) and read by every range.
struct Q8Input {
  const int8_t* xq = nullptr;
  const float* dx = nullptr;
  const int32_t* nx = nullptr;  // VNNI path: the start values and the scales per pair of blocks
  const float* xs = nullptr;
  i64 lds = 0, M = 0, K = 0;
  int path = 0;  // 0 portable, 1 AVX2, 2 AVX512-VNNI
};
Q8Input q8_prepare(const float* X, i64 M, i64 K);
void q8_columns(float* C, i64 ldc, const Q8Input& in, const uint8_t* Q, const uint16_t* S, i64 j0, i64 j1, bool acc);
void bf16_columns(float* C, i64 ldc, const float* X, i64 M, const uint16_t* W, i64 j0, i64 j1, i64 K, bool acc);
// fp32: false (nothing done) below AVX-512, where gemv_f32 is not the path sgemm takes either.
bool f32_columns(float* C, i64 ldc, const float* X, i64 M, const float* W, i64 j0, i64 j1, i64 K, bool acc);

// Column chunks of 16 rows of W over the threads, when each gets a sizeable share of the weights.
template <class F>
static inline void split_columns(i64 N, i64 K, int nthreads, F body) {
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
}  // namespace mm
