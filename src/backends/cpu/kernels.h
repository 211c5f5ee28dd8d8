// Declarations of the native kernels (semantics: src/backends/backend.ts; the js backend is the
// definition). Outputs first, then inputs, then sizes; *_backward kernels take an `acc*` flag per
// gradient output, last: true adds (+=), false overwrites (the first write of a gradient).
#pragma once
#include "common.h"

namespace mm {

enum UnaryOp { U_EXP = 0, U_LOG = 1, U_SILU = 2, U_SIGMOID = 3, U_LOGSIGMOID = 4 };

// elementwise.cc
void add(float* out, const float* a, const float* b, i64 n);
void mul(float* out, const float* a, const float* b, i64 n);
void affine(float* out, const float* x, float alpha, float beta, i64 n);
void axpy(float* out, const float* x, float alpha, i64 n);
double sum_squares(const float* x, i64 n);
void unary_forward(int op, float* out, const float* x, i64 n);
void unary_backward(int op, float* dx, const float* dout, const float* x, const float* out, i64 n, bool acc);
void swiglu_forward(float* out, const float* gate, const float* up, i64 n);
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, i64 n, bool acc_gate, bool acc_up);
void adamw_step(float* param, const float* grad, float* m, float* v, i64 n, float lr, float beta1, float beta2, float eps,
                float weight_decay, double step);

// rows.cc
void embedding_forward(float* out, const int32_t* ids, const float* weight, i64 N, i64 C);
void embedding_backward(float* dweight, const float* dout, const int32_t* ids, i64 N, i64 C);
void row_scale_forward(float* out, const float* x, const float* w, i64 N, i64 C);
void row_scale_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, i64 N, i64 C, bool acc_dx, bool acc_dw);
void topk(float* values, int32_t* indices, const float* x, i64 N, i64 C, i64 k);
void gather_forward(float* out, const float* x, const int32_t* idx, i64 N, i64 C, i64 k);
void gather_backward(float* dx, const float* dout, const int32_t* idx, i64 N, i64 C, i64 k);
// elem_size 4; is_float selects float (else int32) accumulation.
void permute(void* out, const void* x, const i64* shape, const i64* perm, int rank, bool accumulate, bool is_float);
void slice_copy(void* out, const void* x, i64 outer, i64 dim_in, i64 inner, i64 start, i64 len, bool accumulate, bool is_float);
void slice_scatter(void* out, const void* x, i64 outer, i64 dim_out, i64 inner, i64 start, i64 len, bool accumulate, bool is_float);
void sum_axis(float* out, const float* x, i64 outer, i64 dim, i64 inner);
void sum_axis_backward(float* dx, const float* dout, i64 outer, i64 dim, i64 inner, bool acc);

// transformer.cc
void rmsnorm_forward(float* out, float* rstd, const float* x, const float* w, i64 N, i64 C, float eps);
void rmsnorm_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, const float* rstd, i64 N, i64 C, bool acc_dx,
                      bool acc_dw);
void rope_forward(float* out, const float* x, const float* cos, const float* sin, i64 B, i64 T, i64 H, i64 D, i64 pos0, bool interleaved);
void rope_backward(float* dx, const float* dout, const float* cos, const float* sin, i64 B, i64 T, i64 H, i64 D, i64 pos0, bool interleaved,
                   bool acc);
void softmax_forward(float* out, const float* x, i64 N, i64 C);
void softmax_backward(float* dx, const float* dout, const float* out, i64 N, i64 C, bool acc);
void log_softmax_forward(float* out, const float* x, i64 N, i64 C);
void log_softmax_backward(float* dx, const float* dout, const float* out, i64 N, i64 C, bool acc);
void logprob_gather_forward(float* out, float* lse, const float* logits, const int32_t* targets, i64 N, i64 V, int32_t ignore_index);
void logprob_gather_backward(float* dlogits, const float* dout, const float* logits, const float* lse, const int32_t* targets, i64 N, i64 V,
                             int32_t ignore_index, bool acc);

// attention.cc
// C (m x D) (+)= A' B, a'(i, k) = A[i * sa + k * sk], B (kdim x D) rows ldb apart, on AVX-512 for D in
// {16, 32, 64, 128}: false (nothing done) elsewhere (attention_rows.cc).
bool attention_rows_gemm(float* C, i64 ldc, const float* A, i64 sa, i64 sk, const float* B, i64 ldb, i64 m, i64 kdim, i64 D, bool acc);
// One query per sequence (Tq = 1, a decode step) on AVX-512 with D in {16, 32, 64, 128}: returns false
// (nothing done) elsewhere, where attention_forward's general loop runs (attention_one.cc).
bool attention_one_query(float* out, float* lse, const float* q, const float* k, const float* v, i64 B, i64 Tk, i64 Tcap, i64 H, i64 KVH, i64 D,
                         float scale);
void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v, i64 B, i64 Tq, i64 Tk, i64 Tcap, i64 H,
                       i64 KVH, i64 D, float scale);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, i64 B, i64 Tq, i64 Tk, i64 Tcap, i64 H, i64 KVH, i64 D, float scale);

// minhash.cc (for `data dedup`, not a tensor kernel): the MinHash signature of one text, as
// src/corpus/minhash.ts computes it. bytes: the text's units (UTF-8), words joined by single
// spaces, or characters (by_char); n: units per shingle; a/b: H permutation parameters as (hi, lo)
// uint32 halves. Writes 2H uint32 (hi, lo) to sig; false (nothing written) when units < n.
bool minhash_signature(uint32_t* sig, const uint8_t* bytes, i64 nbytes, bool by_char, i64 n, const uint32_t* a_hi, const uint32_t* a_lo,
                       const uint32_t* b_hi, const uint32_t* b_lo, i64 H);

}  // namespace mm
