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

// bf16 GEMMs: same contract as sgemm, operands rounded to bf16 (nearest even), fp32 accumulation,
// C fp32 — PyTorch's bf16 autocast arithmetic for matmuls. sgemm_bf16 runs the kernel of the current
// ISA level: AMX tiles (gemm_amx.cc), AVX512-BF16 vdpbf16ps (gemm_bf16.cc), or below those the fp32
// sgemm. Few rows (M <= 4, decoding) always take the fp32 path, which reads the weights once.
namespace mm {
// CPU has AMX-BF16 and the OS granted the tile state.
bool amx_available();
// CPU has AVX512-BF16 (vdpbf16ps; AMD Zen 4/5, Intel Cooper Lake, Sapphire Rapids and later).
bool avx512bf16_available();
void sgemm_bf16(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                bool accumulate, int nthreads);
void sgemm_amx(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
               bool accumulate, int nthreads);
void sgemm_dpbf16(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                  bool accumulate, int nthreads);
}  // namespace mm
