// GEMM of the CUDA backend (gemm.cc): cuBLAS loaded at run time.
#pragma once
#include <string>

namespace mm {

bool gemm_init(std::string* error);
void gemm_set_bf16(bool on);
bool gemm_bf16();
void matmul(float* out, const float* a, const float* b, int M, int N, int K, bool transA, bool transB, bool accumulate);

}  // namespace mm
