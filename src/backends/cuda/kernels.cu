// The CUDA kernels of every Backend op except GEMM (gemm.cc, cuBLAS) and attention (attention.cu).
// float32 arithmetic; the js backend (src/backends/js) is the definition each one is tested against.
// Kernels with a `*_bf16` flag per operand also read (and write) bf16 activations (ops/precision.ts).
#include "common.cuh"
#include "kernels.h"
#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace mm {

#define GRID_STRIDE(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)
#define LAUNCH(kernel, grid, block, ...)                    \
  do {                                                      \
    kernel<<<(grid), (block), 0, stream>>>(__VA_ARGS__);    \
    check_launch(#kernel);                                  \
  } while (0)

// A backward kernel's store into a gradient: += when accumulating, = when overwriting (the first
// write of a gradient, which then needs no zero fill; the load of d is skipped).
__device__ inline void put_grad(float& d, float v, bool acc) { d = acc ? d + v : v; }
// a bf16 gradient (of a bf16 activation) is only overwritten: sums are taken in float32 (ops/precision.ts)
__device__ inline void put_grad(bf16& d, float v, bool) { d = __float2bfloat16_rn(v); }

// ---------------------------------------------------------------- elementwise

__global__ void k_fill_f(float* out, float v, long long n) { GRID_STRIDE(i, n) out[i] = v; }
__global__ void k_fill_i(int* out, int v, long long n) { GRID_STRIDE(i, n) out[i] = v; }
void fill(void* out, double value, bool is_int, long long n) {
  if (n <= 0) return;
  if (is_int) LAUNCH(k_fill_i, blocks_for(n), 256, (int*)out, (int)value, n);
  else LAUNCH(k_fill_f, blocks_for(n), 256, (float*)out, (float)value, n);
}
void copy(void* out, const void* x, long long n) {
  if (n > 0 && out != x) check(cudaMemcpyAsync(out, x, n * 4, cudaMemcpyDeviceToDevice, stream), "copy");
}
template <typename TA, typename TB>
__global__ void k_add(float* out, const TA* a, const TB* b, long long n) { GRID_STRIDE(i, n) out[i] = ldf(a, i) + ldf(b, i); }
// a residual sum: a bf16 branch output added to the float32 stream
void add(float* out, const void* a, const void* b, long long n, bool a_bf16, bool b_bf16) {
  if (n <= 0) return;
  if (!a_bf16 && !b_bf16) LAUNCH((k_add<float, float>), blocks_for(n), 256, out, (const float*)a, (const float*)b, n);
  else if (!a_bf16) LAUNCH((k_add<float, bf16>), blocks_for(n), 256, out, (const float*)a, (const bf16*)b, n);
  else if (!b_bf16) LAUNCH((k_add<bf16, float>), blocks_for(n), 256, out, (const bf16*)a, (const float*)b, n);
  else LAUNCH((k_add<bf16, bf16>), blocks_for(n), 256, out, (const bf16*)a, (const bf16*)b, n);
}
__global__ void k_mul(float* out, const float* a, const float* b, long long n) { GRID_STRIDE(i, n) out[i] = a[i] * b[i]; }
void mul(float* out, const float* a, const float* b, long long n) { if (n > 0) LAUNCH(k_mul, blocks_for(n), 256, out, a, b, n); }
__global__ void k_affine(float* out, const float* x, float alpha, float beta, long long n) { GRID_STRIDE(i, n) out[i] = alpha * x[i] + beta; }
void affine(float* out, const float* x, float alpha, float beta, long long n) { if (n > 0) LAUNCH(k_affine, blocks_for(n), 256, out, x, alpha, beta, n); }
__global__ void k_axpy(float* out, const float* x, float alpha, long long n) { GRID_STRIDE(i, n) out[i] += alpha * x[i]; }
void axpy(float* out, const float* x, float alpha, long long n) { if (n > 0) LAUNCH(k_axpy, blocks_for(n), 256, out, x, alpha, n); }

__global__ void k_sum_squares(float* out, const float* x, long long n) {
  float s = 0.f;
  GRID_STRIDE(i, n) s += x[i] * x[i];
  s = block_sum(s);
  if (threadIdx.x == 0) atomicAdd(out, s);
}
void sum_squares(float* out, const float* x, long long n, bool accumulate) {
  if (!accumulate) check(cudaMemsetAsync(out, 0, 4, stream), "sum_squares");
  if (n <= 0) return;
  unsigned g = blocks_for(n, 512);
  if (g > 1024) g = 1024;
  LAUNCH(k_sum_squares, g, 512, out, x, n);
}
__global__ void k_clip_scale(float* x, const float* sumsq, float max_norm, long long n) {
  float coef = max_norm / (sqrtf(sumsq[0]) + 1e-6f);
  if (coef >= 1.f) return;
  GRID_STRIDE(i, n) x[i] *= coef;
}
void clip_scale(float* x, const float* sumsq, float max_norm, long long n) { if (n > 0) LAUNCH(k_clip_scale, blocks_for(n), 256, x, sumsq, max_norm, n); }

// op ids as in src/backends/cuda/index.ts: exp, log, silu, sigmoid, logsigmoid
__device__ inline float sigmoidf_(float v) { return 1.f / (1.f + expf(-v)); }
__device__ inline float logsigmoidf_(float v) { return v < 0.f ? v - log1pf(expf(v)) : -log1pf(expf(-v)); }
__global__ void k_unary_forward(int op, float* out, const float* x, long long n) {
  GRID_STRIDE(i, n) {
    float v = x[i], r;
    switch (op) {
      case 0: r = expf(v); break;
      case 1: r = logf(v); break;
      case 2: r = v * sigmoidf_(v); break;
      case 3: r = sigmoidf_(v); break;
      default: r = logsigmoidf_(v); break;
    }
    out[i] = r;
  }
}
__global__ void k_unary_backward(int op, float* dx, const float* dout, const float* x, const float* out, long long n, bool acc) {
  GRID_STRIDE(i, n) {
    float v = x[i], d;
    switch (op) {
      case 0: d = out[i]; break;
      case 1: d = 1.f / v; break;
      case 2: { float s = sigmoidf_(v); d = s * (1.f + v * (1.f - s)); break; }
      case 3: d = out[i] * (1.f - out[i]); break;
      default: d = sigmoidf_(-v); break;
    }
    put_grad(dx[i], dout[i] * d, acc);
  }
}
void unary_forward(int op, float* out, const float* x, long long n) { if (n > 0) LAUNCH(k_unary_forward, blocks_for(n), 256, op, out, x, n); }
void unary_backward(int op, float* dx, const float* dout, const float* x, const float* out, long long n, bool acc) {
  if (n > 0) LAUNCH(k_unary_backward, blocks_for(n), 256, op, dx, dout, x, out, n, acc);
}

__global__ void k_to_bf16(__nv_bfloat162* out, const float2* x, long long n2) {
  GRID_STRIDE(i, n2) out[i] = __float22bfloat162_rn(x[i]);
}
__global__ void k_to_bf16_tail(__nv_bfloat16* out, const float* x, long long i) { out[i] = __float2bfloat16_rn(x[i]); }
// four floats (16-byte load) -> four bf16 (8-byte store): the rounding pass is bandwidth-bound
__global__ void k_to_bf16_4(uint2* out, const float4* x, long long n4) {
  GRID_STRIDE(i, n4) {
    const float4 f = x[i];
    const __nv_bfloat162 lo = __floats2bfloat162_rn(f.x, f.y), hi = __floats2bfloat162_rn(f.z, f.w);
    out[i] = make_uint2(*reinterpret_cast<const uint32_t*>(&lo), *reinterpret_cast<const uint32_t*>(&hi));
  }
}
__global__ void k_to_f32(float* out, const bf16* x, long long n) { GRID_STRIDE(i, n) out[i] = __bfloat162float(x[i]); }
void to_f32(float* out, const void* x, long long n) { if (n > 0) LAUNCH(k_to_f32, blocks_for(n), 256, out, (const bf16*)x, n); }
void to_bf16(void* out, const float* x, long long n) {
  if (n <= 0) return;
  if (n % 4 == 0 && ((uintptr_t)x & 15) == 0 && ((uintptr_t)out & 7) == 0) {
    LAUNCH(k_to_bf16_4, blocks_for(n / 4), 256, (uint2*)out, (const float4*)x, n / 4);
    return;
  }
  // buffers from the allocator are 256-byte aligned, so pairs are 8/4-byte aligned
  long long n2 = n / 2;
  if (n2 > 0) LAUNCH(k_to_bf16, blocks_for(n2), 256, (__nv_bfloat162*)out, (const float2*)x, n2);
  if (n & 1) LAUNCH(k_to_bf16_tail, 1, 1, (__nv_bfloat16*)out, x, n - 1);
}

// ---------------------------------------------------------------- rows

// An id outside 0..V-1 reads nothing: its row becomes NaN (the loss check reports it) and its
// gradient is dropped, so a bad token can never touch memory outside the table.
__global__ void k_embedding_forward(float* out, const int* ids, const float* weight, long long N, int C, int V) {
  GRID_STRIDE(e, N * C) {
    long long i = e / C;
    int c = (int)(e - i * C), id = ids[i];
    out[e] = id >= 0 && id < V ? weight[(long long)id * C + c] : NAN;
  }
}
void embedding_forward(float* out, const int* ids, const float* weight, long long N, int C, int V) {
  if (N * C > 0) LAUNCH(k_embedding_forward, blocks_for(N * C), 256, out, ids, weight, N, C, V);
}
__global__ void k_embedding_backward(float* dweight, const float* dout, const int* ids, long long N, int C, int V) {
  GRID_STRIDE(e, N * C) {
    long long i = e / C;
    int c = (int)(e - i * C), id = ids[i];
    if (id >= 0 && id < V) atomicAdd(&dweight[(long long)id * C + c], dout[e]);
  }
}
void embedding_backward(float* dweight, const float* dout, const int* ids, long long N, int C, int V) {
  if (N * C > 0) LAUNCH(k_embedding_backward, blocks_for(N * C), 256, dweight, dout, ids, N, C, V);
}
__global__ void k_row_scale_forward(float* out, const float* x, const float* w, long long N, int C) {
  GRID_STRIDE(e, N * C) out[e] = x[e] * w[e / C];
}
void row_scale_forward(float* out, const float* x, const float* w, long long N, int C) {
  if (N * C > 0) LAUNCH(k_row_scale_forward, blocks_for(N * C), 256, out, x, w, N, C);
}
// one block per row
__global__ void k_row_scale_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, int C, bool acc_dx, bool acc_dw) {
  long long r = blockIdx.x;
  const float* g = dout + r * C;
  const float* xr = x + r * C;
  float wr = w[r], dot = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    put_grad(dx[r * C + c], g[c] * wr, acc_dx);
    dot += g[c] * xr[c];
  }
  dot = block_sum(dot);
  if (threadIdx.x == 0) put_grad(dw[r], dot, acc_dw);
}
void row_scale_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, long long N, int C, bool acc_dx, bool acc_dw) {
  if (N > 0) LAUNCH(k_row_scale_backward, (unsigned)N, 128, dx, dw, dout, x, w, C, acc_dx, acc_dw);
}
// one thread per row: k selection passes, ties to the lower index (as the js backend's stable sort)
__global__ void k_topk(float* values, int* indices, const float* x, long long N, int C, int k) {
  GRID_STRIDE(r, N) {
    const float* row = x + r * C;
    float prev_v = INFINITY;
    int prev_i = -1;
    for (int j = 0; j < k; j++) {
      float best = -INFINITY;
      int bi = -1;
      for (int c = 0; c < C; c++) {
        float v = row[c];
        // strictly after (prev_v, prev_i) in the order (value desc, index asc)
        bool after = v < prev_v || (v == prev_v && c > prev_i);
        if (after && (bi < 0 || v > best)) { best = v; bi = c; }
      }
      values[r * k + j] = best;
      indices[r * k + j] = bi;
      prev_v = best;
      prev_i = bi;
    }
  }
}
void topk(float* values, int* indices, const float* x, long long N, int C, int k) {
  if (N > 0) LAUNCH(k_topk, blocks_for(N, 128), 128, values, indices, x, N, C, k);
}
__global__ void k_gather_forward(float* out, const float* x, const int* idx, long long N, int C, int k) {
  GRID_STRIDE(e, N * k) out[e] = x[(e / k) * C + idx[e]];
}
void gather_forward(float* out, const float* x, const int* idx, long long N, int C, int k) {
  if (N * k > 0) LAUNCH(k_gather_forward, blocks_for(N * k), 256, out, x, idx, N, C, k);
}
__global__ void k_gather_backward(float* dx, const float* dout, const int* idx, long long N, int C, int k) {
  GRID_STRIDE(e, N * k) atomicAdd(&dx[(e / k) * C + idx[e]], dout[e]);
}
void gather_backward(float* dx, const float* dout, const int* idx, long long N, int C, int k) {
  if (N * k > 0) LAUNCH(k_gather_backward, blocks_for(N * k), 256, dx, dout, idx, N, C, k);
}

// ---------------------------------------------------------------- shape

struct PermuteArgs {
  int rank;
  long long out_shape[8];
  long long in_stride[8];  // input stride of the axis that output axis d reads
};
template <bool ACC, typename Tv>
__global__ void k_permute(Tv* out, const Tv* x, PermuteArgs a, long long n) {
  GRID_STRIDE(o, n) {
    long long rem = o, src = 0;
    for (int d = a.rank - 1; d >= 0; d--) {
      long long i = rem % a.out_shape[d];
      rem /= a.out_shape[d];
      src += i * a.in_stride[d];
    }
    if (ACC) out[o] += x[src]; else out[o] = x[src];
  }
}
void permute(void* out, const void* x, const int* shape, const int* perm, int rank, bool accumulate) {
  if (rank > 8) throw std::runtime_error("permute: rank above 8");
  PermuteArgs a;
  a.rank = rank;
  long long strides[8], s = 1;
  for (int d = rank - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
  for (int d = 0; d < rank; d++) { a.out_shape[d] = shape[perm[d]]; a.in_stride[d] = strides[perm[d]]; }
  if (s <= 0) return;
  if (accumulate) LAUNCH((k_permute<true, float>), blocks_for(s), 256, (float*)out, (const float*)x, a, s);
  else LAUNCH((k_permute<false, int>), blocks_for(s), 256, (int*)out, (const int*)x, a, s);
}
// out (outer, len, inner) (+)= x (outer, dim_in, inner)[:, start:start+len, :]
template <bool ACC, typename Tv>
__global__ void k_slice_copy(Tv* out, const Tv* x, long long outer, long long dim_in, long long inner, long long start, long long len) {
  long long per = len * inner;
  GRID_STRIDE(e, outer * per) {
    long long o = e / per, j = e - o * per;
    Tv v = x[(o * dim_in + start) * inner + j];
    if (ACC) out[e] += v; else out[e] = v;
  }
}
void slice_copy(void* out, const void* x, long long outer, long long dim_in, long long inner, long long start, long long len, bool accumulate) {
  long long n = outer * len * inner;
  if (n <= 0) return;
  if (accumulate) LAUNCH((k_slice_copy<true, float>), blocks_for(n), 256, (float*)out, (const float*)x, outer, dim_in, inner, start, len);
  else LAUNCH((k_slice_copy<false, int>), blocks_for(n), 256, (int*)out, (const int*)x, outer, dim_in, inner, start, len);
}
template <bool ACC, typename Tv>
__global__ void k_slice_scatter(Tv* out, const Tv* x, long long outer, long long dim_out, long long inner, long long start, long long len) {
  long long per = len * inner;
  GRID_STRIDE(e, outer * per) {
    long long o = e / per, j = e - o * per;
    long long dst = (o * dim_out + start) * inner + j;
    if (ACC) out[dst] += x[e]; else out[dst] = x[e];
  }
}
void slice_scatter(void* out, const void* x, long long outer, long long dim_out, long long inner, long long start, long long len, bool accumulate) {
  long long n = outer * len * inner;
  if (n <= 0) return;
  if (accumulate) LAUNCH((k_slice_scatter<true, float>), blocks_for(n), 256, (float*)out, (const float*)x, outer, dim_out, inner, start, len);
  else LAUNCH((k_slice_scatter<false, int>), blocks_for(n), 256, (int*)out, (const int*)x, outer, dim_out, inner, start, len);
}
__global__ void k_sum_axis(float* out, const float* x, long long outer, long long dim, long long inner) {
  GRID_STRIDE(e, outer * inner) {
    long long o = e / inner, i = e - o * inner;
    float s = 0.f;
    for (long long d = 0; d < dim; d++) s += x[(o * dim + d) * inner + i];
    out[e] = s;
  }
}
// a plain sum of many values (outer * inner == 1): one block reduces, then the result is written
__global__ void k_sum_all(float* out, const float* x, long long n) {
  float s = 0.f;
  for (long long i = threadIdx.x; i < n; i += blockDim.x) s += x[i];
  s = block_sum(s);
  if (threadIdx.x == 0) out[0] = s;
}
void sum_axis(float* out, const float* x, long long outer, long long dim, long long inner) {
  if (outer * inner <= 0) return;
  if (outer * inner == 1) LAUNCH(k_sum_all, 1, 1024, out, x, dim);
  else LAUNCH(k_sum_axis, blocks_for(outer * inner), 256, out, x, outer, dim, inner);
}
__global__ void k_sum_axis_backward(float* dx, const float* dout, long long outer, long long dim, long long inner, bool acc) {
  GRID_STRIDE(e, outer * dim * inner) {
    long long i = e % inner, o = e / (dim * inner);
    put_grad(dx[e], dout[o * inner + i], acc);
  }
}
void sum_axis_backward(float* dx, const float* dout, long long outer, long long dim, long long inner, bool acc) {
  long long n = outer * dim * inner;
  if (n > 0) LAUNCH(k_sum_axis_backward, blocks_for(n), 256, dx, dout, outer, dim, inner, acc);
}

// ---------------------------------------------------------------- transformer

// one block per row; TX, TO: the element types of x and out (a bf16 out feeds GEMMs as autocast's
// cast would; bf16 x: QK-norm of bf16 heads)
template <typename TX, typename TO>
__global__ void k_rmsnorm_forward(TO* out, float* rstd, const TX* x, const float* w, int C, float eps) {
  long long r = blockIdx.x;
  const TX* xr = x + r * C;
  float ss = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) { const float v = ldf(xr, c); ss += v * v; }
  ss = block_sum(ss);
  float rs = rsqrtf(ss / C + eps);
  if (threadIdx.x == 0) rstd[r] = rs;
  for (int c = threadIdx.x; c < C; c += blockDim.x) stf(out, r * C + c, ldf(xr, c) * rs * w[c]);
}
// Rows of at most kWarpRow floats (every MiniMind width: 96..1024) take one warp each, 8 rows per
// block: a 128-thread block per row spends its time in block reductions and scheduling.
constexpr int kWarpRow = 1024;
template <typename TX, typename TO>
__global__ void k_rmsnorm_forward_warp(TO* out, float* rstd, const TX* x, const float* w, long long N, int C, float eps) {
  const long long r = (long long)blockIdx.x * 8 + (threadIdx.x >> 5);
  if (r >= N) return;
  const int lane = threadIdx.x & 31;
  const TX* xr = x + r * C;
  float ss = 0.f;
  for (int c = lane; c < C; c += 32) { const float v = ldf(xr, c); ss += v * v; }
  const float rs = rsqrtf(warp_sum(ss) / C + eps);
  if (lane == 0) rstd[r] = rs;
  for (int c = lane; c < C; c += 32) stf(out, r * C + c, ldf(xr, c) * rs * w[c]);
}
template <typename TX, typename TO>
static void rmsnorm_forward_t(TO* out, float* rstd, const TX* x, const float* w, long long N, int C, float eps) {
  if (C <= kWarpRow) LAUNCH((k_rmsnorm_forward_warp<TX, TO>), (unsigned)((N + 7) / 8), 256, out, rstd, x, w, N, C, eps);
  else LAUNCH((k_rmsnorm_forward<TX, TO>), (unsigned)N, 128, out, rstd, x, w, C, eps);
}
void rmsnorm_forward(void* out, float* rstd, const void* x, const float* w, long long N, int C, float eps, bool x_bf16, bool out_bf16) {
  if (N <= 0) return;
  if (x_bf16 && out_bf16) rmsnorm_forward_t((bf16*)out, rstd, (const bf16*)x, w, N, C, eps);
  else if (x_bf16) rmsnorm_forward_t((float*)out, rstd, (const bf16*)x, w, N, C, eps);
  else if (out_bf16) rmsnorm_forward_t((bf16*)out, rstd, (const float*)x, w, N, C, eps);
  else rmsnorm_forward_t((float*)out, rstd, (const float*)x, w, N, C, eps);
}
// TX: x's element type, TG: dout's, TD: dx's (bf16 for the gradient of bf16 heads under QK-norm)
template <typename TX, typename TG, typename TD>
__global__ void k_rmsnorm_backward_dx(TD* dx, const TG* dout, const TX* x, const float* w, const float* rstd, int C, bool acc) {
  long long r = blockIdx.x;
  const TG* g = dout + r * C;
  const TX* xr = x + r * C;
  float rs = rstd[r], dot = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) dot += ldf(g, c) * w[c] * ldf(xr, c) * rs;
  float m = block_sum(dot) / C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) put_grad(dx[r * C + c], rs * (ldf(g, c) * w[c] - ldf(xr, c) * rs * m), acc);
}
template <typename TX, typename TG, typename TD>
__global__ void k_rmsnorm_backward_dx_warp(TD* dx, const TG* dout, const TX* x, const float* w, const float* rstd, long long N, int C, bool acc) {
  const long long r = (long long)blockIdx.x * 8 + (threadIdx.x >> 5);
  if (r >= N) return;
  const int lane = threadIdx.x & 31;
  const TG* g = dout + r * C;
  const TX* xr = x + r * C;
  const float rs = rstd[r];
  float dot = 0.f;
  for (int c = lane; c < C; c += 32) dot += ldf(g, c) * w[c] * ldf(xr, c) * rs;
  const float m = warp_sum(dot) / C;
  for (int c = lane; c < C; c += 32) put_grad(dx[r * C + c], rs * (ldf(g, c) * w[c] - ldf(xr, c) * rs * m), acc);
}
// dw[c] += sum over a chunk of rows of dout * x * rstd; blockIdx.y picks the chunk
template <typename TX, typename TG>
__global__ void k_rmsnorm_backward_dw(float* dw, const TG* dout, const TX* x, const float* rstd, long long N, int C, long long rows_per) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  long long r0 = blockIdx.y * rows_per, r1 = min(N, r0 + rows_per);
  float s = 0.f;
  // unrolled: eight rows' loads in flight at once (the loop is latency-bound, not bandwidth-bound)
#pragma unroll 8
  for (long long r = r0; r < r1; r++) s += ldf(dout, r * C + c) * ldf(x, r * C + c) * rstd[r];
  atomicAdd(&dw[c], s);
}
// Both gradients in one pass over dout and x, for rows of at most 32 * IT floats: a warp per row, its
// lanes holding the row's values in registers (columns lane, lane + 32, ...: compile-time indices, so
// no local memory), and each lane summing its columns' share of dw over the rows of a grid-stride
// loop; a block then adds its 8 warps' sums in shared memory and into dw with one atomicAdd per
// column. (The split kernels above read dout and x twice, and end in an atomicAdd per column per 64
// rows: QK-norm's 96 columns of 262k rows get 4096 each.)
template <int IT, typename TX, typename TG, typename TD>
__global__ void __launch_bounds__(256) k_rmsnorm_backward_fused(TD* dx, float* dw, const TG* dout, const TX* x, const float* w, const float* rstd, long long N, int C, bool acc) {
  __shared__ float part[8][IT * 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  float wv[IT], dwp[IT];
#pragma unroll
  for (int i = 0; i < IT; i++) {
    const int c = lane + 32 * i;
    wv[i] = c < C ? w[c] : 0.f;
    dwp[i] = 0.f;
  }
  for (long long r = (long long)blockIdx.x * 8 + warp; r < N; r += (long long)gridDim.x * 8) {
    const TG* g = dout + r * C;
    const TX* xr = x + r * C;
    const float rs = rstd[r];
    float gv[IT], xv[IT], dot = 0.f;
#pragma unroll
    for (int i = 0; i < IT; i++) {
      const int c = lane + 32 * i;
      gv[i] = c < C ? ldf(g, c) : 0.f;
      xv[i] = c < C ? ldf(xr, c) * rs : 0.f;  // the normalised x, before the weight
    }
#pragma unroll
    for (int i = 0; i < IT; i++) {
      dot += gv[i] * wv[i] * xv[i];
      dwp[i] += gv[i] * xv[i];
    }
    const float m = warp_sum(dot) / C;
#pragma unroll
    for (int i = 0; i < IT; i++) {
      const int c = lane + 32 * i;
      if (c < C) put_grad(dx[r * C + c], rs * (gv[i] * wv[i] - xv[i] * m), acc);
    }
  }
#pragma unroll
  for (int i = 0; i < IT; i++) part[warp][lane + 32 * i] = dwp[i];
  __syncthreads();
  for (int c = threadIdx.x; c < C; c += 256) {
    float s = 0.f;
#pragma unroll
    for (int k = 0; k < 8; k++) s += part[k][c];
    atomicAdd(&dw[c], s);
  }
}
// Blocks for the fused kernel: enough to fill the GPU (more registers per lane, fewer blocks per SM),
// no more than its rows need.
static unsigned fused_blocks(long long N, int it) {
  static int sms = 0;
  if (!sms) {
    int dev = 0;
    check(cudaGetDevice(&dev), "cudaGetDevice");
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
  }
  const long long want = (long long)sms * (it <= 8 ? 8 : 2);
  return (unsigned)std::max(1LL, std::min((N + 7) / 8, want));
}
// MINIMIND_CUDA_RMSNORM_BACKWARD=split: the two-kernel backward, for comparisons
static const bool kSplitRmsnormBackward = [] { const char* e = std::getenv("MINIMIND_CUDA_RMSNORM_BACKWARD"); return e && std::string(e) == "split"; }();

template <typename TX, typename TG, typename TD>
static void rmsnorm_backward_t(TD* dx, float* dw, const TG* dout, const TX* x, const float* w, const float* rstd, long long N, int C, bool acc_dx, bool acc_dw) {
  if (C <= kWarpRow && !kSplitRmsnormBackward) {
    // the block sums meet in atomicAdds: overwriting dw starts from zeros (C floats)
    if (!acc_dw) check(cudaMemsetAsync(dw, 0, (size_t)C * sizeof(float), stream), "rmsnorm_backward: cudaMemsetAsync");
    const int it = (C + 31) / 32;
#define FUSED(IT) LAUNCH((k_rmsnorm_backward_fused<IT, TX, TG, TD>), fused_blocks(N, IT), 256, dx, dw, dout, x, w, rstd, N, C, acc_dx)
    if (it <= 4) FUSED(4);
    else if (it <= 8) FUSED(8);
    else if (it <= 16) FUSED(16);
    else if (it <= 24) FUSED(24);
    else FUSED(32);
#undef FUSED
    return;
  }
  if (C <= kWarpRow) LAUNCH((k_rmsnorm_backward_dx_warp<TX, TG, TD>), (unsigned)((N + 7) / 8), 256, dx, dout, x, w, rstd, N, C, acc_dx);
  else LAUNCH((k_rmsnorm_backward_dx<TX, TG, TD>), (unsigned)N, 128, dx, dout, x, w, rstd, C, acc_dx);
  // the row chunks' partial sums meet in atomicAdds: overwriting dw starts from zeros (C floats)
  if (!acc_dw) check(cudaMemsetAsync(dw, 0, (size_t)C * sizeof(float), stream), "rmsnorm_backward: cudaMemsetAsync");
  long long rows_per = 64;
  long long chunks = (N + rows_per - 1) / rows_per;
  if (chunks > 65535) { rows_per = (N + 65534) / 65535; chunks = (N + rows_per - 1) / rows_per; }
  dim3 grid((C + 127) / 128, (unsigned)chunks);
  LAUNCH((k_rmsnorm_backward_dw<TX, TG>), grid, 128, dw, dout, x, rstd, N, C, rows_per);
}
template <typename TX, typename TG>
static void rmsnorm_backward_g(void* dx, float* dw, const TG* dout, const TX* x, const float* w, const float* rstd, long long N, int C, bool acc_dx, bool acc_dw, bool dx_bf16) {
  if (dx_bf16) rmsnorm_backward_t((bf16*)dx, dw, dout, x, w, rstd, N, C, acc_dx, acc_dw);
  else rmsnorm_backward_t((float*)dx, dw, dout, x, w, rstd, N, C, acc_dx, acc_dw);
}
template <typename TX>
static void rmsnorm_backward_x(void* dx, float* dw, const void* dout, const TX* x, const float* w, const float* rstd, long long N, int C, bool acc_dx, bool acc_dw, bool dout_bf16, bool dx_bf16) {
  if (dout_bf16) rmsnorm_backward_g(dx, dw, (const bf16*)dout, x, w, rstd, N, C, acc_dx, acc_dw, dx_bf16);
  else rmsnorm_backward_g(dx, dw, (const float*)dout, x, w, rstd, N, C, acc_dx, acc_dw, dx_bf16);
}
void rmsnorm_backward(void* dx, float* dw, const void* dout, const void* x, const float* w, const float* rstd, long long N, int C, bool acc_dx, bool acc_dw, bool x_bf16, bool dout_bf16, bool dx_bf16) {
  if (N <= 0) return;
  if (x_bf16) rmsnorm_backward_x(dx, dw, dout, (const bf16*)x, w, rstd, N, C, acc_dx, acc_dw, dout_bf16, dx_bf16);
  else rmsnorm_backward_x(dx, dw, dout, (const float*)x, w, rstd, N, C, acc_dx, acc_dw, dout_bf16, dx_bf16);
}

// a thread per rotated pair: threadIdx.x the pair i of a row, threadIdx.y the row (b, t, h) within
// the block; the row's position comes from one 32-bit division per thread (not 64-bit ones per pair)
template <bool ACC, typename EI, typename EO>
__global__ void k_rope(EO* out, const EI* x, const float* cos, const float* sin, int T, int H, int D, int pos0, bool interleaved, float sign, int rows) {
  const int half = D / 2, i = threadIdx.x;
  const int row = blockIdx.x * blockDim.y + threadIdx.y;
  if (row >= rows) return;
  const int t = (row / H) % T;
  const long long base = (long long)row * D;
  const long long ia = base + (interleaved ? 2 * i : i);
  const long long ib = base + (interleaved ? 2 * i + 1 : i + half);
  const int f = (pos0 + t) * half + i;
  const float c = cos[f], s = sign * sin[f];
  const float a = ldf(x, ia), b = ldf(x, ib);
  float na = a * c - b * s, nb = a * s + b * c;
  if (ACC) { na += ldf(out, ia); nb += ldf(out, ib); }
  stf(out, ia, na);
  stf(out, ib, nb);
}
// launch shape of k_rope: (half, rows per block) threads, about 256
struct RopeGrid {
  dim3 grid, block;
  int rows;
};
static RopeGrid rope_grid(int B, int T, int H, int D) {
  const int half = D / 2, rows = B * T * H, per = half >= 256 ? 1 : 256 / half;
  return {dim3((unsigned)((rows + per - 1) / per)), dim3(half, per), rows};
}
void rope_forward(void* out, const void* x, const float* cos, const float* sin, int B, int T, int H, int D, int pos0, bool interleaved, bool bf16_io) {
  if ((long long)B * T * H * (D / 2) <= 0) return;
  const RopeGrid g = rope_grid(B, T, H, D);
  if (bf16_io) LAUNCH((k_rope<false, bf16, bf16>), g.grid, g.block, (bf16*)out, (const bf16*)x, cos, sin, T, H, D, pos0, interleaved, 1.f, g.rows);
  else LAUNCH((k_rope<false, float, float>), g.grid, g.block, (float*)out, (const float*)x, cos, sin, T, H, D, pos0, interleaved, 1.f, g.rows);
}
// the backward is the rotation by -angle; dout and dx in either precision (a bf16 dx is overwritten)
void rope_backward(void* dx, const void* dout, const float* cos, const float* sin, int B, int T, int H, int D, int pos0, bool interleaved, bool acc, bool dout_bf16, bool dx_bf16) {
  if ((long long)B * T * H * (D / 2) <= 0) return;
  const RopeGrid g = rope_grid(B, T, H, D);
#define ROPE_BWD(ACC, EI, EO) LAUNCH((k_rope<ACC, EI, EO>), g.grid, g.block, (EO*)dx, (const EI*)dout, cos, sin, T, H, D, pos0, interleaved, -1.f, g.rows)
  if (dx_bf16) {
    if (dout_bf16) ROPE_BWD(false, bf16, bf16);
    else ROPE_BWD(false, float, bf16);
  } else if (dout_bf16) {
    if (acc) ROPE_BWD(true, bf16, float);
    else ROPE_BWD(false, bf16, float);
  } else {
    if (acc) ROPE_BWD(true, float, float);
    else ROPE_BWD(false, float, float);
  }
#undef ROPE_BWD
}

// SwiGLU moves 3 (forward) or 5 (backward) floats per element and computes little: whole float4s per
// thread where every operand is 16-byte aligned and n % 4 == 0 (always, for GEMM outputs), else floats.
__device__ inline float swiglu1(float g, float u) { return g * sigmoidf_(g) * u; }
__device__ inline void swiglu_grad1(float d, float g, float u, float& dg, float& du) {
  const float s = sigmoidf_(g);
  du = d * g * s;
  dg = d * u * s * (1.f + g * (1.f - s));
}
static bool vec4(long long n, std::initializer_list<const void*> ptrs) {
  if (n % 4 != 0) return false;
  for (const void* p : ptrs) if ((uintptr_t)p & 15) return false;
  return true;
}
__global__ void k_swiglu_forward(float* out, const float* gate, const float* up, long long n) {
  GRID_STRIDE(i, n) out[i] = swiglu1(gate[i], up[i]);
}
__global__ void k_swiglu_forward4(float4* out, const float4* gate, const float4* up, long long n4) {
  GRID_STRIDE(i, n4) {
    const float4 g = gate[i], u = up[i];
    out[i] = make_float4(swiglu1(g.x, u.x), swiglu1(g.y, u.y), swiglu1(g.z, u.z), swiglu1(g.w, u.w));
  }
}
// bf16 gate, up and out (8-byte groups of four)
__global__ void k_swiglu_forward_bf4(uint2* out, const uint2* gate, const uint2* up, long long n4) {
  GRID_STRIDE(i, n4) {
    const float4 g = bf4_load(gate, i), u = bf4_load(up, i);
    bf4_store(out, i, make_float4(swiglu1(g.x, u.x), swiglu1(g.y, u.y), swiglu1(g.z, u.z), swiglu1(g.w, u.w)));
  }
}
__global__ void k_swiglu_forward_bf(bf16* out, const bf16* gate, const bf16* up, long long n) {
  GRID_STRIDE(i, n) stf(out, i, swiglu1(ldf(gate, i), ldf(up, i)));
}
static bool vec8(long long n, std::initializer_list<const void*> ptrs) {
  if (n % 4 != 0) return false;
  for (const void* p : ptrs) if ((uintptr_t)p & 7) return false;
  return true;
}
void swiglu_forward(void* out_, const void* gate_, const void* up_, long long n, bool bf16_io) {
  if (n <= 0) return;
  if (bf16_io) {
    if (vec8(n, {out_, gate_, up_})) LAUNCH(k_swiglu_forward_bf4, blocks_for(n / 4), 256, (uint2*)out_, (const uint2*)gate_, (const uint2*)up_, n / 4);
    else LAUNCH(k_swiglu_forward_bf, blocks_for(n), 256, (bf16*)out_, (const bf16*)gate_, (const bf16*)up_, n);
    return;
  }
  float* out = (float*)out_;
  const float *gate = (const float*)gate_, *up = (const float*)up_;
  if (vec4(n, {out, gate, up})) LAUNCH(k_swiglu_forward4, blocks_for(n / 4), 256, (float4*)out, (const float4*)gate, (const float4*)up, n / 4);
  else LAUNCH(k_swiglu_forward, blocks_for(n), 256, out, gate, up, n);
}
// any mix of precisions, one element per thread: TI gate/up, TG dout, TD the gradients
template <typename TI, typename TG, typename TD>
__global__ void k_swiglu_backward(TD* dgate, TD* dup, const TG* dout, const TI* gate, const TI* up, long long n, bool acc_gate, bool acc_up) {
  GRID_STRIDE(i, n) {
    float dg, du;
    swiglu_grad1(ldf(dout, i), ldf(gate, i), ldf(up, i), dg, du);
    put_grad(dup[i], du, acc_up);
    put_grad(dgate[i], dg, acc_gate);
  }
}
__global__ void k_swiglu_backward4(float4* dgate, float4* dup, const float4* dout, const float4* gate, const float4* up, long long n4, bool acc_gate, bool acc_up) {
  GRID_STRIDE(i, n4) {
    const float4 d = dout[i], g = gate[i], u = up[i];
    float4 dg, du;
    swiglu_grad1(d.x, g.x, u.x, dg.x, du.x);
    swiglu_grad1(d.y, g.y, u.y, dg.y, du.y);
    swiglu_grad1(d.z, g.z, u.z, dg.z, du.z);
    swiglu_grad1(d.w, g.w, u.w, dg.w, du.w);
    if (acc_up) { const float4 o = dup[i]; du = make_float4(o.x + du.x, o.y + du.y, o.z + du.z, o.w + du.w); }
    if (acc_gate) { const float4 o = dgate[i]; dg = make_float4(o.x + dg.x, o.y + dg.y, o.z + dg.z, o.w + dg.w); }
    dup[i] = du;
    dgate[i] = dg;
  }
}
// all bf16 (autocast's backward): 8-byte groups of four
__global__ void k_swiglu_backward_bf4(uint2* dgate, uint2* dup, const uint2* dout, const uint2* gate, const uint2* up, long long n4) {
  GRID_STRIDE(i, n4) {
    const float4 d = bf4_load(dout, i), g = bf4_load(gate, i), u = bf4_load(up, i);
    float4 dg, du;
    swiglu_grad1(d.x, g.x, u.x, dg.x, du.x);
    swiglu_grad1(d.y, g.y, u.y, dg.y, du.y);
    swiglu_grad1(d.z, g.z, u.z, dg.z, du.z);
    swiglu_grad1(d.w, g.w, u.w, dg.w, du.w);
    bf4_store(dup, i, du);
    bf4_store(dgate, i, dg);
  }
}
template <typename TI, typename TG>
static void swiglu_backward_g(void* dgate, void* dup, const TG* dout, const TI* gate, const TI* up, long long n, bool acc_gate, bool acc_up, bool grads_bf16) {
  if (grads_bf16) LAUNCH((k_swiglu_backward<TI, TG, bf16>), blocks_for(n), 256, (bf16*)dgate, (bf16*)dup, dout, gate, up, n, acc_gate, acc_up);
  else LAUNCH((k_swiglu_backward<TI, TG, float>), blocks_for(n), 256, (float*)dgate, (float*)dup, dout, gate, up, n, acc_gate, acc_up);
}
void swiglu_backward(void* dgate, void* dup, const void* dout, const void* gate, const void* up, long long n, bool acc_gate, bool acc_up, bool in_bf16, bool dout_bf16, bool grads_bf16) {
  if (n <= 0) return;
  if (in_bf16 && dout_bf16 && grads_bf16 && vec8(n, {dgate, dup, dout, gate, up})) {
    LAUNCH(k_swiglu_backward_bf4, blocks_for(n / 4), 256, (uint2*)dgate, (uint2*)dup, (const uint2*)dout, (const uint2*)gate, (const uint2*)up, n / 4);
    return;
  }
  if (!in_bf16 && !dout_bf16 && !grads_bf16 && vec4(n, {dgate, dup, dout, gate, up})) {
    LAUNCH(k_swiglu_backward4, blocks_for(n / 4), 256, (float4*)dgate, (float4*)dup, (const float4*)dout, (const float4*)gate, (const float4*)up, n / 4, acc_gate, acc_up);
    return;
  }
  if (in_bf16) {
    if (dout_bf16) swiglu_backward_g(dgate, dup, (const bf16*)dout, (const bf16*)gate, (const bf16*)up, n, acc_gate, acc_up, grads_bf16);
    else swiglu_backward_g(dgate, dup, (const float*)dout, (const bf16*)gate, (const bf16*)up, n, acc_gate, acc_up, grads_bf16);
  } else {
    if (dout_bf16) swiglu_backward_g(dgate, dup, (const bf16*)dout, (const float*)gate, (const float*)up, n, acc_gate, acc_up, grads_bf16);
    else swiglu_backward_g(dgate, dup, (const float*)dout, (const float*)gate, (const float*)up, n, acc_gate, acc_up, grads_bf16);
  }
}

// log-sum-exp of one row, by the whole block (two passes over the row; rows stay in L2)
template <typename T>
__device__ inline float row_lse(const T* row, int C) {
  float mx = -INFINITY;
  for (int c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, ldf(row, c));
  mx = block_max(mx);
  float s = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) s += __expf(ldf(row, c) - mx);
  s = block_sum(s);
  return mx + logf(s);
}
__global__ void k_softmax_forward(float* out, const float* x, int C, bool log_out) {
  long long r = blockIdx.x;
  float l = row_lse(x + r * C, C);
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    float v = x[r * C + c] - l;
    out[r * C + c] = log_out ? v : __expf(v);
  }
}
void softmax_forward(float* out, const float* x, long long N, int C) { if (N > 0) LAUNCH(k_softmax_forward, (unsigned)N, 256, out, x, C, false); }
void log_softmax_forward(float* out, const float* x, long long N, int C) { if (N > 0) LAUNCH(k_softmax_forward, (unsigned)N, 256, out, x, C, true); }
__global__ void k_softmax_backward(float* dx, const float* dout, const float* out, int C, bool acc) {
  long long r = blockIdx.x;
  float dot = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) dot += dout[r * C + c] * out[r * C + c];
  dot = block_sum(dot);
  for (int c = threadIdx.x; c < C; c += blockDim.x) put_grad(dx[r * C + c], out[r * C + c] * (dout[r * C + c] - dot), acc);
}
void softmax_backward(float* dx, const float* dout, const float* out, long long N, int C, bool acc) { if (N > 0) LAUNCH(k_softmax_backward, (unsigned)N, 256, dx, dout, out, C, acc); }
__global__ void k_log_softmax_backward(float* dx, const float* dout, const float* out, int C, bool acc) {
  long long r = blockIdx.x;
  float s = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) s += dout[r * C + c];
  s = block_sum(s);
  for (int c = threadIdx.x; c < C; c += blockDim.x) put_grad(dx[r * C + c], dout[r * C + c] - __expf(out[r * C + c]) * s, acc);
}
void log_softmax_backward(float* dx, const float* dout, const float* out, long long N, int C, bool acc) { if (N > 0) LAUNCH(k_log_softmax_backward, (unsigned)N, 256, dx, dout, out, C, acc); }

// T: the logits' element type (bf16 logits of a bf16 lm head, as autocast's cross-entropy reads them)
template <typename T>
__global__ void k_logprob_gather_forward(float* out, float* lse, const T* logits, const int* targets, int V, int ignore_index) {
  long long r = blockIdx.x;
  const T* row = logits + r * V;
  float l = row_lse(row, V);
  if (threadIdx.x == 0) {
    lse[r] = l;
    int t = targets[r];
    // an out-of-range target yields NaN, which the trainer's finite-loss check reports
    out[r] = t == ignore_index ? 0.f : (t < 0 || t >= V) ? NAN : ldf(row, t) - l;
  }
}
void logprob_gather_forward(float* out, float* lse, const void* logits, const int* targets, long long N, int V, int ignore_index, bool logits_bf16) {
  if (N <= 0) return;
  if (logits_bf16) LAUNCH(k_logprob_gather_forward<bf16>, (unsigned)N, 256, out, lse, (const bf16*)logits, targets, V, ignore_index);
  else LAUNCH(k_logprob_gather_forward<float>, (unsigned)N, 256, out, lse, (const float*)logits, targets, V, ignore_index);
}
// an ignored (or out-of-range) target's row gets no gradient: += nothing, or = 0 when overwriting
template <typename T, typename TD>
__global__ void k_logprob_gather_backward(TD* dlogits, const float* dout, const T* logits, const float* lse, const int* targets, int V, int ignore_index, bool acc) {
  long long r = blockIdx.x;
  int t = targets[r];
  TD* drow = dlogits + r * V;
  if (t == ignore_index || t < 0 || t >= V) {
    if (!acc) for (int c = threadIdx.x; c < V; c += blockDim.x) put_grad(drow[c], 0.f, false);
    return;
  }
  float g = dout[r], l = lse[r];
  const T* row = logits + r * V;
  for (int c = threadIdx.x; c < V; c += blockDim.x) put_grad(drow[c], (c == t ? g : 0.f) - g * __expf(ldf(row, c) - l), acc);
}
void logprob_gather_backward(void* dlogits, const float* dout, const void* logits, const float* lse, const int* targets, long long N, int V, int ignore_index, bool acc, bool logits_bf16, bool dlogits_bf16) {
  if (N <= 0) return;
  if (logits_bf16 && dlogits_bf16) LAUNCH((k_logprob_gather_backward<bf16, bf16>), (unsigned)N, 256, (bf16*)dlogits, dout, (const bf16*)logits, lse, targets, V, ignore_index, acc);
  else if (logits_bf16) LAUNCH((k_logprob_gather_backward<bf16, float>), (unsigned)N, 256, (float*)dlogits, dout, (const bf16*)logits, lse, targets, V, ignore_index, acc);
  else if (dlogits_bf16) LAUNCH((k_logprob_gather_backward<float, bf16>), (unsigned)N, 256, (bf16*)dlogits, dout, (const float*)logits, lse, targets, V, ignore_index, acc);
  else LAUNCH((k_logprob_gather_backward<float, float>), (unsigned)N, 256, (float*)dlogits, dout, (const float*)logits, lse, targets, V, ignore_index, acc);
}

__device__ inline void adamw1(float& param, float g, float& m, float& v, float beta1, float beta2, float eps, float decay, float step_size, float bc2_sqrt) {
  const float p = param * decay;
  const float mi = beta1 * m + (1.f - beta1) * g;
  const float vi = beta2 * v + (1.f - beta2) * g * g;
  m = mi;
  v = vi;
  param = p - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
}
__global__ void k_adamw(float* param, const float* grad, float* m, float* v, long long n, float beta1, float beta2, float eps, float decay, float step_size, float bc2_sqrt, const float* guard) {
  if (guard && !isfinite(*guard)) return;  // a non-finite loss or gradient since the last host read: leave everything as it is
  GRID_STRIDE(i, n) adamw1(param[i], grad[i], m[i], v[i], beta1, beta2, eps, decay, step_size, bc2_sqrt);
}
struct AdamwScalars {
  float beta1, beta2, eps, decay, step_size, bc2_sqrt;
};
static AdamwScalars adamw_scalars(float lr, float beta1, float beta2, float eps, float weight_decay, int step) {
  const double bc1 = 1.0 - pow((double)beta1, step);
  const double bc2_sqrt = sqrt(1.0 - pow((double)beta2, step));
  return {beta1, beta2, eps, (float)(1.0 - (double)lr * weight_decay), (float)(lr / bc1), (float)bc2_sqrt};
}
void adamw_step(float* param, const float* grad, float* m, float* v, long long n, float lr, float beta1, float beta2, float eps, float weight_decay, int step, const float* guard) {
  if (n <= 0) return;
  const AdamwScalars c = adamw_scalars(lr, beta1, beta2, eps, weight_decay, step);
  LAUNCH(k_adamw, blocks_for(n), 256, param, grad, m, v, n, c.beta1, c.beta2, c.eps, c.decay, c.step_size, c.bc2_sqrt, guard);
}

// ---------------------------------------------------------------- multi-tensor (PyTorch's foreach / fused AdamW)
// One launch for a list of tensors instead of one per parameter: a step of a small model is ~70-150
// parameters, whose per-tensor launches cost more than their arithmetic. The list travels as a kernel
// argument (no copy to the device); blockIdx.y picks the tensor, blocks stride over its elements.
constexpr int kListMax = 36;  // tensors per launch: 4 pointers + a size each stays well under the 4 KB of kernel arguments
struct TensorList {
  void* ptr[4][kListMax];
  long long n[kListMax];
};
// Calls launch(list, count, blocks_x) for each chunk of kListMax tensors of the lists.
template <typename F>
static void for_each_chunk(void* const* const* lists, int nlists, const long long* n, int count, F&& launch) {
  for (int base = 0; base < count; base += kListMax) {
    TensorList L;
    const int c = std::min(kListMax, count - base);
    long long most = 0;
    for (int i = 0; i < c; i++) {
      for (int k = 0; k < nlists; k++) L.ptr[k][i] = lists[k][base + i];
      L.n[i] = n[base + i];
      most = std::max(most, n[base + i]);
    }
    const unsigned bx = (unsigned)std::min<long long>(std::max<long long>((most + 1023) / 1024, 1), 1024);
    launch(L, c, bx);
  }
}
#define LIST_STRIDE(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

__global__ void k_adamw_multi(TensorList L, AdamwScalars c, const float* guard) {
  if (guard && !isfinite(*guard)) return;
  const int t = blockIdx.y;
  float* param = (float*)L.ptr[0][t];
  const float* grad = (const float*)L.ptr[1][t];
  float* m = (float*)L.ptr[2][t];
  float* v = (float*)L.ptr[3][t];
  LIST_STRIDE(i, L.n[t]) adamw1(param[i], grad[i], m[i], v[i], c.beta1, c.beta2, c.eps, c.decay, c.step_size, c.bc2_sqrt);
}
void adamw_step_multi(float* const* params, float* const* grads, float* const* m, float* const* v, const long long* n, int count, float lr, float beta1, float beta2, float eps, float weight_decay, int step, const float* guard) {
  const AdamwScalars c = adamw_scalars(lr, beta1, beta2, eps, weight_decay, step);
  void* const* lists[4] = {(void* const*)params, (void* const*)grads, (void* const*)m, (void* const*)v};
  for_each_chunk(lists, 4, n, count, [&](const TensorList& L, int cnt, unsigned bx) { LAUNCH(k_adamw_multi, dim3(bx, cnt), 256, L, c, guard); });
}
__global__ void k_sum_squares_multi(float* out, TensorList L) {
  const int t = blockIdx.y;
  const float* x = (const float*)L.ptr[0][t];
  float s = 0.f;
  LIST_STRIDE(i, L.n[t]) s += x[i] * x[i];
  s = block_sum(s);
  if (threadIdx.x == 0 && s != 0.f) atomicAdd(out, s);
}
void sum_squares_multi(float* out, float* const* xs, const long long* n, int count, bool accumulate) {
  if (!accumulate) check(cudaMemsetAsync(out, 0, 4, stream), "sum_squares_multi");
  void* const* lists[1] = {(void* const*)xs};
  for_each_chunk(lists, 1, n, count, [&](const TensorList& L, int cnt, unsigned bx) { LAUNCH(k_sum_squares_multi, dim3(std::min(bx, 256u), cnt), 512, out, L); });
}
__global__ void k_clip_scale_multi(TensorList L, const float* sumsq, float max_norm) {
  const float coef = max_norm / (sqrtf(sumsq[0]) + 1e-6f);
  if (coef >= 1.f) return;
  const int t = blockIdx.y;
  float* x = (float*)L.ptr[0][t];
  LIST_STRIDE(i, L.n[t]) x[i] *= coef;
}
void clip_scale_multi(float* const* xs, const long long* n, int count, const float* sumsq, float max_norm) {
  void* const* lists[1] = {(void* const*)xs};
  for_each_chunk(lists, 1, n, count, [&](const TensorList& L, int cnt, unsigned bx) { LAUNCH(k_clip_scale_multi, dim3(bx, cnt), 256, L, sumsq, max_norm); });
}

}  // namespace mm
