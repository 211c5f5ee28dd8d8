// The fused batch-1 decode step (decode.h). Per layer six kernels:
//   qkv      = [Wq; Wk; Wv] rmsnorm(x)                      (one GEMV over the three matrices)
//   q, k, v  → QK-norm, RoPE at pos, k and v written to the cache at pos
//   a        = softmax(q k^T / sqrt(D)) v over positions 0..pos (GQA)
//   x       += Wo a
//   h        = silu(Wg rmsnorm(x)) * (Wu rmsnorm(x))        (both GEMVs in one pass)
//   x       += Wd h
// then logits = W_out rmsnorm(x). The RMSNorms are folded into the GEMV that reads them (each block
// normalises its own copy of x in shared memory), which is exact: the same x * rstd * w as the
// rmsnorm kernel. Every GEMV is one warp per output row reading the row with 16-byte loads: at
// batch 1 the step is bound by reading the weights once and by kernel latency, so fewer, fatter
// kernels in one graph replay are what make it fast.
#include <cuda_runtime.h>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>
#include "common.cuh"
#include "decode.h"
#include "runtime.h"

namespace mm {

namespace {

constexpr int kThreads = 256;  // 8 warps: 8 output rows per GEMV block
constexpr int kWarps = kThreads / 32;
constexpr int kMaxHeadDim = 128;

// Copies x (K floats) into shared memory, as rmsnorm(x) * nw when nw is given.
__device__ inline void load_input(float* xs, const float* x, const float* nw, int K, float eps) {
  for (int c = threadIdx.x; c < K; c += blockDim.x) xs[c] = x[c];
  if (nw) {
    float ss = 0.f;
    for (int c = threadIdx.x; c < K; c += blockDim.x) ss += xs[c] * xs[c];
    float rs = rsqrtf(block_sum(ss) / K + eps);
    for (int c = threadIdx.x; c < K; c += blockDim.x) xs[c] = xs[c] * rs * nw[c];
  }
  __syncthreads();
}

// dot(w[0..K), xs) by one warp; every lane gets the sum. VEC: w 16-byte aligned and K % 4 == 0.
template <bool VEC>
__device__ inline float row_dot(const float* w, const float* xs, int K) {
  int lane = threadIdx.x & 31;
  float s = 0.f;
  if (VEC) {
    const float4* w4 = reinterpret_cast<const float4*>(w);
    const float4* x4 = reinterpret_cast<const float4*>(xs);
#pragma unroll 4
    for (int i = lane; i < K / 4; i += 32) {
      float4 a = __ldg(w4 + i), b = x4[i];
      s += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
    }
  } else {
    for (int i = lane; i < K; i += 32) s += w[i] * xs[i];
  }
  return warp_sum(s);
}

// y = [W0; W1; W2] rmsnorm(x): the rows of up to three matrices, one after another (qkv, lm_head).
struct Rows3 {
  const float* w[3];
  int end[3];  // cumulative row counts
};
template <bool VEC>
__global__ void k_gemv_norm(float* y, Rows3 m, const float* x, const float* nw, int K, float eps) {
  extern __shared__ float xs[];
  load_input(xs, x, nw, K, eps);
  int r = blockIdx.x * kWarps + (threadIdx.x >> 5);
  if (r >= m.end[2]) return;
  int s = r < m.end[0] ? 0 : r < m.end[1] ? 1 : 2;
  int local = r - (s == 0 ? 0 : m.end[s - 1]);
  float v = row_dot<VEC>(m.w[s] + (long long)local * K, xs, K);
  if ((threadIdx.x & 31) == 0) y[r] = v;
}

// x += W a (o_proj, down_proj): the residual add folded into the GEMV.
template <bool VEC>
__global__ void k_gemv_residual(float* x, const float* W, const float* a, int N, int K) {
  extern __shared__ float xs[];
  load_input(xs, a, nullptr, K, 0.f);
  int r = blockIdx.x * kWarps + (threadIdx.x >> 5);
  if (r >= N) return;
  float v = row_dot<VEC>(W + (long long)r * K, xs, K);
  if ((threadIdx.x & 31) == 0) x[r] += v;
}

// h = silu(Wg n) * (Wu n), n = rmsnorm(x): the gate and up rows of one output in one warp.
template <bool VEC>
__global__ void k_gemv_swiglu(float* h, const float* Wg, const float* Wu, const float* x, const float* nw, int N, int K, float eps) {
  extern __shared__ float xs[];
  load_input(xs, x, nw, K, eps);
  int r = blockIdx.x * kWarps + (threadIdx.x >> 5);
  if (r >= N) return;
  float g = row_dot<VEC>(Wg + (long long)r * K, xs, K);
  float u = row_dot<VEC>(Wu + (long long)r * K, xs, K);
  if ((threadIdx.x & 31) == 0) h[r] = g * (1.f / (1.f + expf(-g))) * u;
}

// state = {token, pos}
__global__ void k_embed(float* x, const float* E, const int* state, int d) {
  const float* row = E + (long long)state[0] * d;
  for (int c = threadIdx.x; c < d; c += blockDim.x) x[c] = row[c];
}

// One block per head: blocks [0, H) the query heads, [H, H + KVH) the key heads (which also copy
// their v). QK-norm (when given), RoPE at pos, then q in place and k, v into the cache at pos.
__global__ void k_qk_rope_cache(float* qkv, float* kc, float* vc, const float* qn, const float* kn, const float* cos, const float* sin,
                                const int* state, int H, int KVH, int D, bool interleaved, float eps) {
  __shared__ float xs[kMaxHeadDim];
  int t = threadIdx.x, half = D / 2, pos = state[1];
  bool isq = blockIdx.x < H;
  int head = isq ? blockIdx.x : blockIdx.x - H;
  float* src = qkv + (isq ? 0 : H * D) + head * D;
  float v = t < D ? src[t] : 0.f;
  const float* nw = isq ? qn : kn;
  if (nw) {
    float rs = rsqrtf(block_sum(v * v) / D + eps);
    if (t < D) v = v * rs * nw[t];
  }
  if (t < D) xs[t] = v;
  __syncthreads();
  float* dst = isq ? src : kc + ((long long)pos * KVH + head) * D;
  if (t < half) {
    int ia = interleaved ? 2 * t : t, ib = interleaved ? 2 * t + 1 : t + half;
    float c = cos[(long long)pos * half + t], s = sin[(long long)pos * half + t];
    float a = xs[ia], b = xs[ib];
    dst[ia] = a * c - b * s;
    dst[ib] = a * s + b * c;
  }
  if (!isq && t < D) vc[((long long)pos * KVH + head) * D + t] = qkv[(H + KVH) * D + head * D + t];
}

// One block per query head over keys 0..L-1 of one sequence: each warp an online softmax over every
// 8th key (lane l holds dims l, l+32, ...), then the warps' partial results are merged.
// kc, vc: (capacity, KVH, D); q, out: (H, D).
__device__ inline void attend(float* out, const float* q, const float* kc, const float* vc, int L, int h, int H, int KVH, int D, float scale) {
  __shared__ float qs[kMaxHeadDim];
  __shared__ float wm[kWarps], wl[kWarps], wacc[kWarps][kMaxHeadDim];
  int kvh = h / (H / KVH), lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  for (int c = threadIdx.x; c < D; c += blockDim.x) qs[c] = q[h * D + c];
  __syncthreads();
  float m = -INFINITY, l = 0.f, acc[kMaxHeadDim / 32] = {0.f, 0.f, 0.f, 0.f};
  for (int j = w; j < L; j += kWarps) {
    const float* kr = kc + ((long long)j * KVH + kvh) * D;
    const float* vr = vc + ((long long)j * KVH + kvh) * D;
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < kMaxHeadDim / 32; i++) {
      int c = lane + 32 * i;
      if (c < D) s += qs[c] * kr[c];
    }
    s = warp_sum(s) * scale;
    float mn = fmaxf(m, s), corr = expf(m - mn), p = expf(s - mn);
    l = l * corr + p;
#pragma unroll
    for (int i = 0; i < kMaxHeadDim / 32; i++) {
      int c = lane + 32 * i;
      acc[i] = acc[i] * corr + (c < D ? p * vr[c] : 0.f);
    }
    m = mn;
  }
  if (lane == 0) { wm[w] = m; wl[w] = l; }
#pragma unroll
  for (int i = 0; i < kMaxHeadDim / 32; i++) {
    int c = lane + 32 * i;
    if (c < D) wacc[w][c] = acc[i];
  }
  __syncthreads();
  float M = -INFINITY;
  for (int i = 0; i < kWarps; i++) M = fmaxf(M, wm[i]);
  for (int c = threadIdx.x; c < D; c += blockDim.x) {
    float num = 0.f, den = 0.f;
    for (int i = 0; i < kWarps; i++) {
      float f = wl[i] > 0.f ? expf(wm[i] - M) : 0.f;
      num += wacc[i][c] * f;
      den += wl[i] * f;
    }
    out[h * D + c] = num / den;
  }
}

// The fused step's attention: one sequence at the position in state[1].
__global__ void k_attention(float* out, const float* q, const float* kc, const float* vc, const int* state, int H, int KVH, int D, float scale) {
  attend(out, q, kc, vc, state[1] + 1, blockIdx.x, H, KVH, D, scale);
}

// attentionDecode: S sequences (blockIdx.y), each with its own caches and position.
struct SeqCaches {
  float* const* kc;
  float* const* vc;
  const int* pos;
};
__global__ void k_write_rows(SeqCaches c, const float* k, const float* v, int inner) {
  const int s = blockIdx.x;
  const long long at = (long long)c.pos[s] * inner;
  for (int i = threadIdx.x; i < inner; i += blockDim.x) {
    c.kc[s][at + i] = k[(long long)s * inner + i];
    c.vc[s][at + i] = v[(long long)s * inner + i];
  }
}
__global__ void k_attention_seqs(float* out, const float* q, SeqCaches c, int H, int KVH, int D, float scale) {
  const int s = blockIdx.y;
  attend(out + (long long)s * H * D, q + (long long)s * H * D, c.kc[s], c.vc[s], c.pos[s] + 1, blockIdx.x, H, KVH, D, scale);
}

inline unsigned rows_grid(int n) { return (unsigned)((n + kWarps - 1) / kWarps); }

}  // namespace

struct Decoder {
  DecodeSpec s;
  bool vec;
  int* state = nullptr;   // device {token, pos}
  int* host_state = nullptr;  // pinned
  float *x = nullptr, *qkv = nullptr, *attn = nullptr, *h = nullptr, *logits = nullptr;
  float* host_logits = nullptr;  // pinned
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;

  // The whole step's kernels, in order (recorded into the graph, or launched directly).
  void launch() {
    const DecodeSpec& c = s;
    int D = c.head_dim, qd = c.heads * D, kvd = c.kv_heads * D;
    size_t smem_d = (size_t)c.hidden * 4, smem_q = (size_t)qd * 4, smem_f = (size_t)c.ffn * 4;
    float scale = 1.f / sqrtf((float)D);
    k_embed<<<1, kThreads, 0, stream>>>(x, c.embed, state, c.hidden);
    for (const DecodeLayer& L : c.layer) {
      Rows3 m{{L.wq, L.wk, L.wv}, {qd, qd + kvd, qd + 2 * kvd}};
      if (vec) k_gemv_norm<true><<<rows_grid(qd + 2 * kvd), kThreads, smem_d, stream>>>(qkv, m, x, L.input_norm, c.hidden, c.eps);
      else k_gemv_norm<false><<<rows_grid(qd + 2 * kvd), kThreads, smem_d, stream>>>(qkv, m, x, L.input_norm, c.hidden, c.eps);
      k_qk_rope_cache<<<c.heads + c.kv_heads, kMaxHeadDim, 0, stream>>>(qkv, L.k_cache, L.v_cache, L.q_norm, L.k_norm, c.cos, c.sin, state,
                                                                       c.heads, c.kv_heads, D, c.interleaved, c.eps);
      k_attention<<<c.heads, kThreads, 0, stream>>>(attn, qkv, L.k_cache, L.v_cache, state, c.heads, c.kv_heads, D, scale);
      if (vec) k_gemv_residual<true><<<rows_grid(c.hidden), kThreads, smem_q, stream>>>(x, L.wo, attn, c.hidden, qd);
      else k_gemv_residual<false><<<rows_grid(c.hidden), kThreads, smem_q, stream>>>(x, L.wo, attn, c.hidden, qd);
      if (vec) k_gemv_swiglu<true><<<rows_grid(c.ffn), kThreads, smem_d, stream>>>(h, L.w_gate, L.w_up, x, L.post_norm, c.ffn, c.hidden, c.eps);
      else k_gemv_swiglu<false><<<rows_grid(c.ffn), kThreads, smem_d, stream>>>(h, L.w_gate, L.w_up, x, L.post_norm, c.ffn, c.hidden, c.eps);
      if (vec) k_gemv_residual<true><<<rows_grid(c.hidden), kThreads, smem_f, stream>>>(x, L.w_down, h, c.hidden, c.ffn);
      else k_gemv_residual<false><<<rows_grid(c.hidden), kThreads, smem_f, stream>>>(x, L.w_down, h, c.hidden, c.ffn);
    }
    Rows3 head{{c.lm_head, c.lm_head, c.lm_head}, {c.vocab, c.vocab, c.vocab}};
    if (vec) k_gemv_norm<true><<<rows_grid(c.vocab), kThreads, smem_d, stream>>>(logits, head, x, c.final_norm, c.hidden, c.eps);
    else k_gemv_norm<false><<<rows_grid(c.vocab), kThreads, smem_d, stream>>>(logits, head, x, c.final_norm, c.hidden, c.eps);
    check_launch("fused decode step");
  }
};

namespace {
bool aligned16(const void* p) { return ((uintptr_t)p & 15) == 0; }
void* dev(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes < 16 ? 16 : bytes), "decoder: cudaMalloc");
  return p;
}
}  // namespace

Decoder* decoder_create(const DecodeSpec& s) {
  if (s.head_dim > kMaxHeadDim || s.head_dim % 2 != 0) throw std::runtime_error("fused decode: head_dim must be even and at most 128, got " + std::to_string(s.head_dim));
  if (s.kv_heads <= 0 || s.heads % s.kv_heads != 0) throw std::runtime_error("fused decode: heads must be a multiple of kv_heads");
  if ((int)s.layer.size() != s.layers) throw std::runtime_error("fused decode: layer pointers do not match the layer count");
  size_t smem = (size_t)std::max(std::max(s.hidden, s.heads * s.head_dim), s.ffn) * 4;
  if (smem > 48 * 1024) throw std::runtime_error("fused decode: hidden/intermediate size too large for the fused GEMV (at most 12288)");
  Decoder* d = new Decoder{s};
  bool vec = s.hidden % 4 == 0 && (s.heads * s.head_dim) % 4 == 0 && s.ffn % 4 == 0;
  for (const float* p : {s.embed, s.lm_head}) vec = vec && aligned16(p);
  for (const DecodeLayer& L : s.layer)
    for (const float* p : {L.wq, L.wk, L.wv, L.wo, L.w_gate, L.w_up, L.w_down}) vec = vec && aligned16(p);
  d->vec = vec;
  try {
    d->state = (int*)dev(2 * sizeof(int));
    check(cudaMallocHost(&d->host_state, 2 * sizeof(int)), "decoder: cudaMallocHost");
    d->x = (float*)dev((size_t)s.hidden * 4);
    d->qkv = (float*)dev((size_t)(s.heads + 2 * s.kv_heads) * s.head_dim * 4);
    d->attn = (float*)dev((size_t)s.heads * s.head_dim * 4);
    d->h = (float*)dev((size_t)s.ffn * 4);
    d->logits = (float*)dev((size_t)s.vocab * 4);
    check(cudaMallocHost(&d->host_logits, (size_t)s.vocab * 4), "decoder: cudaMallocHost");
    const char* g = std::getenv("MINIMIND_CUDA_GRAPHS");
    if (!(g && std::strcmp(g, "0") == 0)) {
      check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "decoder: begin graph capture");
      d->launch();
      check(cudaStreamEndCapture(stream, &d->graph), "decoder: end graph capture");
      check(cudaGraphInstantiate(&d->exec, d->graph, 0), "decoder: instantiate graph");
    }
  } catch (...) {
    decoder_destroy(d);
    throw;
  }
  return d;
}

void decoder_step(Decoder* d, int token, int pos, float* logits) {
  if (token < 0 || token >= d->s.vocab) throw std::runtime_error("fused decode: token " + std::to_string(token) + " outside the vocabulary");
  if (pos < 0 || pos >= d->s.capacity) throw std::runtime_error("fused decode: position " + std::to_string(pos) + " outside the cache capacity " + std::to_string(d->s.capacity));
  d->host_state[0] = token;
  d->host_state[1] = pos;
  check(cudaMemcpyAsync(d->state, d->host_state, 2 * sizeof(int), cudaMemcpyHostToDevice, stream), "decoder: upload token");
  if (d->exec) check(cudaGraphLaunch(d->exec, stream), "decoder: graph launch");
  else d->launch();
  check(cudaMemcpyAsync(d->host_logits, d->logits, (size_t)d->s.vocab * 4, cudaMemcpyDeviceToHost, stream), "decoder: download logits");
  check(cudaStreamSynchronize(stream), "decoder: step");
  std::memcpy(logits, d->host_logits, (size_t)d->s.vocab * 4);
}

int decoder_vocab(const Decoder* d) { return d->s.vocab; }

void attention_decode(float* out, const float* q, const float* k, const float* v, float* const* kc, float* const* vc, const int* pos, int S, int H, int KVH, int D, float scale) {
  if (S <= 0) return;
  if (D > kMaxHeadDim) throw std::runtime_error("attentionDecode: head_dim must be at most 128");
  // the S cache addresses and positions go to the device in one block (stream-ordered: freed after use)
  const size_t bytes = (size_t)S * (2 * sizeof(float*) + sizeof(int));
  std::vector<char> host(bytes);
  std::memcpy(host.data(), kc, S * sizeof(float*));
  std::memcpy(host.data() + S * sizeof(float*), vc, S * sizeof(float*));
  std::memcpy(host.data() + 2 * S * sizeof(float*), pos, S * sizeof(int));
  char* table = (char*)device_alloc(bytes);
  check(cudaMemcpyAsync(table, host.data(), bytes, cudaMemcpyHostToDevice, stream), "attentionDecode: upload");
  SeqCaches c{(float* const*)table, (float* const*)(table + S * sizeof(float*)), (const int*)(table + 2 * S * sizeof(float*))};
  k_write_rows<<<S, 256, 0, stream>>>(c, k, v, KVH * D);
  k_attention_seqs<<<dim3(H, S), kThreads, 0, stream>>>(out, q, c, H, KVH, D, scale);
  check_launch("attentionDecode");
  device_free(table);
}

void decoder_destroy(Decoder* d) {
  if (!d) return;
  cudaStreamSynchronize(stream);
  if (d->exec) cudaGraphExecDestroy(d->exec);
  if (d->graph) cudaGraphDestroy(d->graph);
  for (void* p : {(void*)d->state, (void*)d->x, (void*)d->qkv, (void*)d->attn, (void*)d->h, (void*)d->logits})
    if (p) cudaFree(p);
  if (d->host_state) cudaFreeHost(d->host_state);
  if (d->host_logits) cudaFreeHost(d->host_logits);
  delete d;
}

}  // namespace mm
