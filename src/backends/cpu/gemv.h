// Decoding GEMMs on packed inference weights (bf16, q8_0-style); see gemv.cc.
#pragma once
#include "common.h"

namespace mm {
// C (M, N) (+)= X (M, K) W^T, W (N, K) fp32, X rows contiguous (ld K), C rows ldc apart. Runs where the
// ISA level has AVX-512 and returns true; false = not run (the caller uses its own path).
bool gemv_f32(float* C, i64 ldc, const float* X, const float* W, i64 M, i64 N, i64 K, bool acc, int nthreads);
// C (M, N) (+)= X (M, K) W^T, W (N, K) in bf16.
void gemv_bf16(float* C, const float* X, const uint16_t* W, i64 M, i64 N, i64 K, bool acc, int nthreads);
// C (M, N) (+)= X (M, K) W^T, W[j][k] = Q[j * K + k] * S[j * (K / 32) + k / 32]; K % 32 == 0.
void gemv_q8(float* C, const float* X, const int8_t* Q, const float* S, i64 M, i64 N, i64 K, bool acc, int nthreads);
}  // namespace mm
