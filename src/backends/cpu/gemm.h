// Packed, cache-blocked SGEMM (BLIS-style loops around a register-tiled micro-kernel).
#pragma once
#include "common.h"

namespace mm {

// C (M, N) = op(A) @ op(B), or C += when accumulate. Row-major with leading dimensions:
// op(A)(i, k) = transA ? A[k * lda + i] : A[i * lda + k]; op(B)(k, j) = transB ? B[j * ldb + k] : B[k * ldb + j].
// nthreads <= 1 runs on the calling thread (used inside other parallel kernels).
void sgemm(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb,
           float* C, i64 ldc, bool accumulate, int nthreads);

}  // namespace mm

namespace mm {
// Whether the bf16 AMX GEMM can run here (CPU has AMX-BF16 and the OS granted the tile state).
bool amx_available();
// Same contract as sgemm, operands rounded to bf16, fp32 accumulation (AMX). Falls back to sgemm.
void sgemm_bf16(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                bool accumulate, int nthreads);
}  // namespace mm
