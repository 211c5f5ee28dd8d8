// Causal grouped-query attention, flash style: scores are computed tile by tile with an online
// softmax and never stored, so memory stays O(T) per head. float32 on the CUDA cores.
//
// Layout (as the Backend interface): q (B, Tq, H, D); k, v (B, Tcap, KVH, D) of which the first Tk
// positions are used; query t sees keys 0 .. (Tk - Tq) + t. lse (B, H, Tq) is the natural-log
// log-sum-exp of the scaled scores, saved for backward.
//
// Work split: G threads share one query (or, in the dK/dV kernel, one key); thread `part` holds
// the head dims part, part+G, part+2G, ... so the lanes of a warp read consecutive shared-memory
// words. Dot products are reduced over the G lanes with shuffles.
#include "common.cuh"
#include "runtime.h"
#include <vector>
#include "gemm.h"
#include "kernels.h"
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace mm {

constexpr int THREADS = 128;
constexpr int TILE = 32;  // keys (forward, dQ) or queries (dK/dV) staged in shared memory per step

template <int G>
__device__ inline float group_sum(float v) {
#pragma unroll
  for (int o = G / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Stages `rows` rows of D floats (row r at src + r * stride, missing rows as zeros) into dst[TILE][D].
template <int D>
__device__ inline void stage(float (*dst)[D], const float* src, long long stride, int rows) {
  for (int e = threadIdx.x; e < TILE * D; e += THREADS) {
    int r = e / D, d = e - r * D;
    dst[r][d] = r < rows ? src[r * stride + d] : 0.f;
  }
}

template <int D, int G>
__global__ void k_attention_forward(float* out, float* lse, const float* q, const float* k, const float* v, int Tq, int Tk, int Tcap, int H, int KVH, float scale) {
  constexpr int DPT = D / G, QB = THREADS / G;
  __shared__ float Ks[TILE][D], Vs[TILE][D];
  const int b = blockIdx.z, h = blockIdx.y, kvh = h / (H / KVH);
  const int part = threadIdx.x % G, t = blockIdx.x * QB + threadIdx.x / G;
  const bool valid = t < Tq;
  const int offset = Tk - Tq;
  const float qscale = scale * 1.4426950408889634f;  // scores in log2 units: exp2 is cheaper than exp
  float qr[DPT], acc[DPT];
  const long long qoff = (((long long)b * Tq + (valid ? t : 0)) * H + h) * D;
#pragma unroll
  for (int i = 0; i < DPT; i++) { qr[i] = valid ? q[qoff + i * G + part] * qscale : 0.f; acc[i] = 0.f; }
  float m = -INFINITY, l = 0.f;
  const int last_t = min(Tq - 1, (int)blockIdx.x * QB + QB - 1);
  const int kend = offset + last_t + 1;  // keys this block needs
  const int lim = offset + t;             // last key this query sees
  const long long kstride = (long long)KVH * D;
  const float* kb = k + ((long long)b * Tcap * KVH + kvh) * D;
  const float* vb = v + ((long long)b * Tcap * KVH + kvh) * D;
  for (int j0 = 0; j0 < kend; j0 += TILE) {
    int rows = min(TILE, kend - j0);
    __syncthreads();
    stage<D>(Ks, kb + j0 * kstride, kstride, rows);
    stage<D>(Vs, vb + j0 * kstride, kstride, rows);
    __syncthreads();
    float s[TILE];
    float tmax = -INFINITY;
#pragma unroll
    for (int jj = 0; jj < TILE; jj++) {
      float d = 0.f;
#pragma unroll
      for (int i = 0; i < DPT; i++) d += qr[i] * Ks[jj][i * G + part];
      d = group_sum<G>(d);
      s[jj] = (j0 + jj <= lim && jj < rows) ? d : -INFINITY;
      tmax = fmaxf(tmax, s[jj]);
    }
    float mnew = fmaxf(m, tmax);
    if (mnew == -INFINITY) continue;  // every key of this tile is masked for this query
    float corr = exp2f(m - mnew);
    l *= corr;
#pragma unroll
    for (int i = 0; i < DPT; i++) acc[i] *= corr;
#pragma unroll
    for (int jj = 0; jj < TILE; jj++) {
      float p = exp2f(s[jj] - mnew);
      l += p;
#pragma unroll
      for (int i = 0; i < DPT; i++) acc[i] += p * Vs[jj][i * G + part];
    }
    m = mnew;
  }
  if (!valid) return;
  float inv = 1.f / l;
#pragma unroll
  for (int i = 0; i < DPT; i++) out[qoff + i * G + part] = acc[i] * inv;
  if (part == 0) lse[((long long)b * H + h) * Tq + t] = (m + log2f(l)) * 0.6931471805599453f;
}

// delta[b, h, t] = sum_d dout * out  (softmax backward's row term); each float32 or bf16
template <typename TG, typename T>
__global__ void k_attention_delta(float* delta, const TG* dout, const T* out, int Tq, int H, int D, long long rows) {
  long long r = blockIdx.x * (long long)(blockDim.x / 32) + threadIdx.x / 32;  // one warp per (b, t, h) row
  if (r >= rows) return;
  int lane = threadIdx.x & 31;
  float s = 0.f;
  for (int d = lane; d < D; d += 32) s += ldf(dout, r * D + d) * ldf(out, r * D + d);
  s = warp_sum(s);
  if (lane == 0) {
    long long bt = r / H;
    int h = (int)(r - bt * H);
    long long b = bt / Tq;
    int t = (int)(bt - b * Tq);
    delta[(b * H + h) * Tq + t] = s;
  }
}

template <int D, int G>
__global__ void k_attention_backward_dq(float* dq, const float* dout, const float* q, const float* k, const float* v, const float* lse, const float* delta, int Tq, int Tk, int Tcap, int H, int KVH, float scale) {
  constexpr int DPT = D / G, QB = THREADS / G;
  __shared__ float Ks[TILE][D], Vs[TILE][D];
  const int b = blockIdx.z, h = blockIdx.y, kvh = h / (H / KVH);
  const int part = threadIdx.x % G, t = blockIdx.x * QB + threadIdx.x / G;
  const bool valid = t < Tq;
  const int offset = Tk - Tq;
  const long long qoff = (((long long)b * Tq + (valid ? t : 0)) * H + h) * D;
  float qr[DPT], gr[DPT], acc[DPT];
#pragma unroll
  for (int i = 0; i < DPT; i++) {
    qr[i] = valid ? q[qoff + i * G + part] * scale : 0.f;
    gr[i] = valid ? dout[qoff + i * G + part] : 0.f;
    acc[i] = 0.f;
  }
  const long long row = ((long long)b * H + h) * Tq + (valid ? t : 0);
  const float L = valid ? lse[row] : 0.f, Di = valid ? delta[row] : 0.f;
  const int last_t = min(Tq - 1, (int)blockIdx.x * QB + QB - 1);
  const int kend = offset + last_t + 1, lim = offset + t;
  const long long kstride = (long long)KVH * D;
  const float* kb = k + ((long long)b * Tcap * KVH + kvh) * D;
  const float* vb = v + ((long long)b * Tcap * KVH + kvh) * D;
  for (int j0 = 0; j0 < kend; j0 += TILE) {
    int rows = min(TILE, kend - j0);
    __syncthreads();
    stage<D>(Ks, kb + j0 * kstride, kstride, rows);
    stage<D>(Vs, vb + j0 * kstride, kstride, rows);
    __syncthreads();
#pragma unroll 4
    for (int jj = 0; jj < TILE; jj++) {
      float sd = 0.f, dp = 0.f;
#pragma unroll
      for (int i = 0; i < DPT; i++) {
        sd += qr[i] * Ks[jj][i * G + part];
        dp += gr[i] * Vs[jj][i * G + part];
      }
      sd = group_sum<G>(sd);
      dp = group_sum<G>(dp);
      float p = (j0 + jj <= lim && jj < rows) ? __expf(sd - L) : 0.f;
      float ds = p * (dp - Di);
#pragma unroll
      for (int i = 0; i < DPT; i++) acc[i] += ds * Ks[jj][i * G + part];
    }
  }
  if (!valid) return;
#pragma unroll
  for (int i = 0; i < DPT; i++) dq[qoff + i * G + part] += acc[i] * scale;
}

// One thread group per key j of kv head kvh; loops over the query heads that share it and the
// queries that see it.
template <int D, int G>
__global__ void k_attention_backward_dkdv(float* dk, float* dv, const float* dout, const float* q, const float* k, const float* v, const float* lse, const float* delta, int Tq, int Tk, int Tcap, int H, int KVH, float scale) {
  constexpr int DPT = D / G, KB = THREADS / G;
  __shared__ float Qs[TILE][D], Gs[TILE][D];
  __shared__ float Ls[TILE], Ds[TILE];
  const int b = blockIdx.z, kvh = blockIdx.y;
  const int part = threadIdx.x % G, j = blockIdx.x * KB + threadIdx.x / G;
  const bool valid = j < Tk;
  const int offset = Tk - Tq;
  const long long koff = (((long long)b * Tcap + (valid ? j : 0)) * KVH + kvh) * D;
  float kr[DPT], vr[DPT], dka[DPT], dva[DPT];
#pragma unroll
  for (int i = 0; i < DPT; i++) {
    kr[i] = valid ? k[koff + i * G + part] : 0.f;
    vr[i] = valid ? v[koff + i * G + part] : 0.f;
    dka[i] = 0.f;
    dva[i] = 0.f;
  }
  const int group = H / KVH;
  const int first_j = blockIdx.x * KB;
  const int t_start = max(0, first_j - offset);  // earlier queries see none of this block's keys
  const long long qstride = (long long)H * D;
  for (int hh = 0; hh < group; hh++) {
    const int h = kvh * group + hh;
    const float* qb = q + ((long long)b * Tq * H + h) * D;
    const float* gb = dout + ((long long)b * Tq * H + h) * D;
    const float* lb = lse + ((long long)b * H + h) * Tq;
    const float* db = delta + ((long long)b * H + h) * Tq;
    for (int t0 = t_start; t0 < Tq; t0 += TILE) {
      int rows = min(TILE, Tq - t0);
      __syncthreads();
      stage<D>(Qs, qb + t0 * qstride, qstride, rows);
      stage<D>(Gs, gb + t0 * qstride, qstride, rows);
      if (threadIdx.x < TILE) {
        Ls[threadIdx.x] = threadIdx.x < rows ? lb[t0 + threadIdx.x] : 0.f;
        Ds[threadIdx.x] = threadIdx.x < rows ? db[t0 + threadIdx.x] : 0.f;
      }
      __syncthreads();
#pragma unroll 4
      for (int ii = 0; ii < TILE; ii++) {
        float sd = 0.f, dp = 0.f;
#pragma unroll
        for (int i = 0; i < DPT; i++) {
          sd += Qs[ii][i * G + part] * kr[i];
          dp += Gs[ii][i * G + part] * vr[i];
        }
        sd = group_sum<G>(sd);
        dp = group_sum<G>(dp);
        bool seen = ii < rows && valid && j <= offset + t0 + ii;
        float p = seen ? __expf(sd * scale - Ls[ii]) : 0.f;
        float ds = p * (dp - Ds[ii]);
#pragma unroll
        for (int i = 0; i < DPT; i++) {
          dva[i] += p * Gs[ii][i * G + part];
          dka[i] += ds * Qs[ii][i * G + part];
        }
      }
    }
  }
  if (!valid) return;
#pragma unroll
  for (int i = 0; i < DPT; i++) {
    dk[koff + i * G + part] += dka[i] * scale;
    dv[koff + i * G + part] += dva[i];
  }
}

// Head dims with a compiled kernel, and how many threads share a row for each.
#define FOR_EACH_HEAD_DIM(X) X(8, 1) X(16, 1) X(32, 2) X(48, 4) X(64, 4) X(80, 8) X(96, 8) X(128, 8)

static void unsupported(int D) {
  throw std::runtime_error("CUDA attention supports head dims 8, 16, 32, 48, 64, 80, 96 and 128, got " + std::to_string(D));
}

// bf16 precision runs attention on the tensor cores (attention_tc.cu) where the head dim has a
// kernel there; MINIMIND_CUDA_ATTENTION=simt keeps the fp32 kernels (for comparisons).
static bool use_tc(int D) {
  static const bool simt = std::getenv("MINIMIND_CUDA_ATTENTION") && std::strcmp(std::getenv("MINIMIND_CUDA_ATTENTION"), "simt") == 0;
  return !simt && gemm_bf16() && attention_tc_supports(D);
}

// The SIMT kernels read float32 only: bf16 operands (bf16 activations with a head dim the tensor
// cores lack, or MINIMIND_CUDA_ATTENTION=simt) get float32 copies, freed in stream order.
static const float* f32_operand(const void* x, bool is_bf16, size_t n, std::vector<float*>& owned) {
  if (!is_bf16) return (const float*)x;
  float* f = (float*)device_alloc(n * sizeof(float));
  to_f32(f, x, (long long)n);
  owned.push_back(f);
  return f;
}

static void attention_forward_simt(float* out, float* lse, const float* q, const float* k, const float* v, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale) {
#define CASE(DD, GG)                                                                                    \
  case DD: {                                                                                            \
    dim3 grid((Tq + THREADS / GG - 1) / (THREADS / GG), H, B);                                          \
    k_attention_forward<DD, GG><<<grid, THREADS, 0, stream>>>(out, lse, q, k, v, Tq, Tk, Tcap, H, KVH, scale); \
    check_launch("attention_forward");                                                                  \
    return;                                                                                             \
  }
  switch (D) { FOR_EACH_HEAD_DIM(CASE) default: unsupported(D); }
#undef CASE
}

void attention_forward(void* out, float* lse, const void* q, const void* k, const void* v, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale, bool q_bf16, bool k_bf16, bool v_bf16) {
  if (B * Tq * H == 0) return;
  if (use_tc(D)) return attention_forward_tc(out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale, q_bf16, k_bf16, v_bf16);
  std::vector<float*> owned;
  const size_t nq = (size_t)B * Tq * H * D, nk = (size_t)B * Tcap * KVH * D;
  const float* qf = f32_operand(q, q_bf16, nq, owned);
  float* of = q_bf16 ? (float*)device_alloc(nq * sizeof(float)) : (float*)out;  // out has q's precision
  attention_forward_simt(of, lse, qf, f32_operand(k, k_bf16, nk, owned), f32_operand(v, v_bf16, nk, owned), B, Tq, Tk, Tcap, H, KVH, D, scale);
  if (q_bf16) {
    to_bf16(out, of, (long long)nq);
    owned.push_back(of);
  }
  for (float* f : owned) device_free(f);
}

void attention_backward(float* dq, float* dk, float* dv, const void* dout, const void* q, const void* k, const void* v, const void* out, const float* lse, float* delta, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale, bool acc_dq, bool acc_dk, bool acc_dv, bool q_bf16, bool k_bf16, bool v_bf16, bool out_bf16, bool dout_bf16) {
  // Overwriting: the tensor-core kernels write every element they own; the SIMT kernels add, and
  // so do all where a KV cache's positions past Tk are not written: those outputs start from zeros.
  const bool tc = use_tc(D);
  const size_t nq = (size_t)B * Tq * H * D * sizeof(float), nk = (size_t)B * Tcap * KVH * D * sizeof(float);
  if (!acc_dq && !tc) { check(cudaMemsetAsync(dq, 0, nq, stream), "attention_backward"); acc_dq = true; }
  if (!acc_dk && (!tc || Tcap != Tk)) { check(cudaMemsetAsync(dk, 0, nk, stream), "attention_backward"); acc_dk = true; }
  if (!acc_dv && (!tc || Tcap != Tk)) { check(cudaMemsetAsync(dv, 0, nk, stream), "attention_backward"); acc_dv = true; }
  if (B * Tq * H == 0) return;
  long long rows = (long long)B * Tq * H;
  const unsigned dg = (unsigned)((rows + 7) / 8);
  if (dout_bf16 && out_bf16) k_attention_delta<<<dg, 256, 0, stream>>>(delta, (const bf16*)dout, (const bf16*)out, Tq, H, D, rows);
  else if (dout_bf16) k_attention_delta<<<dg, 256, 0, stream>>>(delta, (const bf16*)dout, (const float*)out, Tq, H, D, rows);
  else if (out_bf16) k_attention_delta<<<dg, 256, 0, stream>>>(delta, (const float*)dout, (const bf16*)out, Tq, H, D, rows);
  else k_attention_delta<<<dg, 256, 0, stream>>>(delta, (const float*)dout, (const float*)out, Tq, H, D, rows);
  check_launch("attention_delta");
  if (tc) return attention_backward_tc(dq, dk, dv, dout, q, k, v, lse, delta, B, Tq, Tk, Tcap, H, KVH, D, scale, acc_dq, acc_dk, acc_dv, q_bf16, k_bf16, v_bf16, dout_bf16);
  std::vector<float*> owned;
  const float* gf = f32_operand(dout, dout_bf16, nq / 4, owned);
  const float* qf = f32_operand(q, q_bf16, nq / 4, owned);
  const float* kf = f32_operand(k, k_bf16, nk / 4, owned);
  const float* vf = f32_operand(v, v_bf16, nk / 4, owned);
#define CASE(DD, GG)                                                                                              \
  case DD: {                                                                                                      \
    dim3 gq((Tq + THREADS / GG - 1) / (THREADS / GG), H, B);                                                       \
    k_attention_backward_dq<DD, GG><<<gq, THREADS, 0, stream>>>(dq, gf, qf, kf, vf, lse, delta, Tq, Tk, Tcap, H, KVH, scale); \
    check_launch("attention_backward_dq");                                                                        \
    dim3 gk((Tk + THREADS / GG - 1) / (THREADS / GG), KVH, B);                                                     \
    k_attention_backward_dkdv<DD, GG><<<gk, THREADS, 0, stream>>>(dk, dv, gf, qf, kf, vf, lse, delta, Tq, Tk, Tcap, H, KVH, scale); \
    check_launch("attention_backward_dkdv");                                                                      \
    break;                                                                                                        \
  }
  switch (D) { FOR_EACH_HEAD_DIM(CASE) default: unsupported(D); }
#undef CASE
  for (float* f : owned) device_free(f);
}

}  // namespace mm
