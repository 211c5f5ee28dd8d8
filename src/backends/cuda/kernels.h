// Host-side launchers of the CUDA kernels, one per Backend kernel (src/backends/backend.ts gives
// the semantics; the js backend is the reference). Outputs first, then inputs, then sizes.
// Shape legend: N rows, C channels, B batch, T time, H query heads, KVH kv heads, D head dim, V vocab.
// Every launcher enqueues on mm::stream and returns without waiting for the GPU. *_backward
// launchers take an `acc*` flag per gradient output, last: true adds (+=), false overwrites.
#pragma once
#include <cstdint>

namespace mm {

// ---- elementwise (4-byte elements; `is_int` says the buffer holds int32 where the value matters) ----
void fill(void* out, double value, bool is_int, long long n);
void copy(void* out, const void* x, long long n);
// a_bf16 / b_bf16: that input is bf16 (bf16 activations, src/ops/precision.ts); the sum is float32
void add(float* out, const void* a, const void* b, long long n, bool a_bf16, bool b_bf16);
void mul(float* out, const float* a, const float* b, long long n);
void affine(float* out, const float* x, float alpha, float beta, long long n);
void axpy(float* out, const float* x, float alpha, long long n);
// out[0] (+)= sum(x^2), on the device (gradient clipping without a host round trip)
void sum_squares(float* out, const float* x, long long n, bool accumulate);
// x *= min(1, max_norm / (sqrt(sumsq[0]) + 1e-6))  (torch.nn.utils.clip_grad_norm_)
void clip_scale(float* x, const float* sumsq, float max_norm, long long n);
void unary_forward(int op, float* out, const float* x, long long n);
void unary_backward(int op, float* dx, const float* dout, const float* x, const float* out, long long n, bool acc);
// bf16 copy of x (round to nearest even), for bf16 GEMM operands; out holds n 2-byte values
void to_bf16(void* out, const float* x, long long n);
// float32 copy of n bf16 values
void to_f32(float* out, const void* x, long long n);

// ---- rows ----
// V = rows of the table (ids outside 0..V-1 give NaN rows and no gradient)
void embedding_forward(float* out, const int* ids, const float* weight, long long N, int C, int V);
void embedding_backward(float* dweight, const float* dout, const int* ids, long long N, int C, int V);
void row_scale_forward(float* out, const float* x, const float* w, long long N, int C);
void row_scale_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, long long N, int C, bool acc_dx, bool acc_dw);
void topk(float* values, int* indices, const float* x, long long N, int C, int k);
void gather_forward(float* out, const float* x, const int* idx, long long N, int C, int k);
void gather_backward(float* dx, const float* dout, const int* idx, long long N, int C, int k);

// ---- shape (4-byte elements) ----
void permute(void* out, const void* x, const int* shape, const int* perm, int rank, bool accumulate);
void slice_copy(void* out, const void* x, long long outer, long long dim_in, long long inner, long long start, long long len, bool accumulate);
void slice_scatter(void* out, const void* x, long long outer, long long dim_out, long long inner, long long start, long long len, bool accumulate);
void sum_axis(float* out, const float* x, long long outer, long long dim, long long inner);
void sum_axis_backward(float* dx, const float* dout, long long outer, long long dim, long long inner, bool acc);

// ---- transformer ----
// x_bf16, out_bf16: x, out are bf16 (bf16 activations: the output feeds GEMMs)
void rmsnorm_forward(void* out, float* rstd, const void* x, const float* w, long long N, int C, float eps, bool x_bf16, bool out_bf16);
// dout and dx in either precision too (a bf16 dx is overwritten, never added into)
void rmsnorm_backward(void* dx, float* dw, const void* dout, const void* x, const float* w, const float* rstd, long long N, int C, bool acc_dx, bool acc_dw, bool x_bf16, bool dout_bf16, bool dx_bf16);
void rope_forward(void* out, const void* x, const float* cos, const float* sin, int B, int T, int H, int D, int pos0, bool interleaved, bool bf16_io);
void rope_backward(void* dx, const void* dout, const float* cos, const float* sin, int B, int T, int H, int D, int pos0, bool interleaved, bool acc, bool dout_bf16, bool dx_bf16);
void swiglu_forward(void* out, const void* gate, const void* up, long long n, bool bf16_io);
// in_bf16: gate and up are bf16; dout_bf16, grads_bf16: dout, and dgate and dup, are (bf16 gradients are overwritten)
void swiglu_backward(void* dgate, void* dup, const void* dout, const void* gate, const void* up, long long n, bool acc_gate, bool acc_up, bool in_bf16, bool dout_bf16, bool grads_bf16);
void softmax_forward(float* out, const float* x, long long N, int C);
void softmax_backward(float* dx, const float* dout, const float* out, long long N, int C, bool acc);
void log_softmax_forward(float* out, const float* x, long long N, int C);
void log_softmax_backward(float* dx, const float* dout, const float* out, long long N, int C, bool acc);
void logprob_gather_forward(float* out, float* lse, const void* logits, const int* targets, long long N, int V, int ignore_index, bool logits_bf16);
void logprob_gather_backward(void* dlogits, const float* dout, const void* logits, const float* lse, const int* targets, long long N, int V, int ignore_index, bool acc, bool logits_bf16, bool dlogits_bf16);
// guard: null, or one float on the device; NaN/Inf there skips the step (no host read decides it)
void adamw_step(float* param, const float* grad, float* m, float* v, long long n, float lr, float beta1, float beta2, float eps, float weight_decay, int step, const float* guard);
// multi-tensor forms (one launch per 36 tensors): lists of `count` buffers with n[i] floats each
void adamw_step_multi(float* const* params, float* const* grads, float* const* m, float* const* v, const long long* n, int count, float lr, float beta1, float beta2, float eps, float weight_decay, int step, const float* guard);
void sum_squares_multi(float* out, float* const* xs, const long long* n, int count, bool accumulate);
void clip_scale_multi(float* const* xs, const long long* n, int count, const float* sumsq, float max_norm);

// ---- attention (attention.cu) ----
// q_bf16 etc.: that operand is bf16 (bf16 activations); out has q's precision. A bf16 k or v fills
// its buffer (Tk == Tcap). Gradients are float32.
void attention_forward(void* out, float* lse, const void* q, const void* k, const void* v, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale, bool q_bf16, bool k_bf16, bool v_bf16);
// scratch: B*H*Tq floats (rowsum(dout * out))
void attention_backward(float* dq, float* dk, float* dv, const void* dout, const void* q, const void* k, const void* v, const void* out, const float* lse, float* scratch, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale, bool acc_dq, bool acc_dk, bool acc_dv, bool q_bf16, bool k_bf16, bool v_bf16, bool out_bf16, bool dout_bf16);

// ---- tensor-core attention (attention_tc.cu): bf16 operands, fp32 accumulation ----
bool attention_tc_supports(int D);
void attention_forward_tc(void* out, float* lse, const void* q, const void* k, const void* v, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale, bool q_bf16, bool k_bf16, bool v_bf16);
// delta: rowsum(dout * out), (B, H, Tq), computed by attention_backward before it calls this
// acc_*: add into the output (else overwrite: every element of dq, and dk/dv's first Tk positions of each batch)
void attention_backward_tc(float* dq, float* dk, float* dv, const void* dout, const void* q, const void* k, const void* v, const float* lse, const float* delta, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale, bool acc_dq, bool acc_dk, bool acc_dv, bool q_bf16, bool k_bf16, bool v_bf16, bool dout_bf16);

}  // namespace mm
