// GEMM of the CUDA backend (gemm.cc): cuBLAS loaded at run time.
#pragma once
#include <string>

namespace mm {

bool gemm_init(std::string* error);
void gemm_set_bf16(bool on);
bool gemm_bf16();
// a_bf16 / b_bf16: that operand already holds bf16 values (a lowPrecisionCopy), used as is.
// out_bf16: out is written in bf16 (a bf16 activation, src/ops/precision.ts).
void matmul(void* out, const float* a, const float* b, int M, int N, int K, bool transA, bool transB, bool accumulate, bool a_bf16 = false, bool b_bf16 = false, bool out_bf16 = false);

}  // namespace mm
