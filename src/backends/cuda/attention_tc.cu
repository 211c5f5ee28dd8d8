// Causal GQA flash attention on the tensor cores (bf16 operands, fp32 accumulation), used when the
// GEMM precision is bf16 (PyTorch autocast's attention is bf16 too). Same layouts and results as
// attention.cu within bf16 rounding; the fp32 kernels there remain the fp32 path.
//
// mma.sync m16n8k16 (row.col, bf16 -> f32) fragments, lane = 4 * g + t (g = lane / 4, t = lane % 4):
//   A (16 x 16): reg0 (row g, k 2t..2t+1), reg1 (row g+8, k 2t..), reg2 (row g, k 2t+8..), reg3 (row g+8, k 2t+8..)
//   B (16 x 8):  reg0 (k 2t..2t+1, col g), reg1 (k 2t+8.., col g)   -> B "col" = 2 consecutive k for one column
//   C (16 x 8):  c0, c1 (row g, cols 2t, 2t+1), c2, c3 (row g+8, cols 2t, 2t+1)
// A C-fragment pair (two 8-column tiles) is exactly the A-fragment of the next product (FlashAttention-2's
// register reuse), so P never leaves registers. The tiles staged in shared memory come from bf16 copies
// of the operands made once per call (bf16_rows), 16 bytes per load, and are stored row-major only: a
// B-fragment whose k runs along the rows (P V, dS K, P^T dO, dS^T Q) is read with ldmatrix.trans.
//
// Work split: forward and dQ: a warp owns 16 queries, a block 64; dK/dV: a warp owns 16 keys of one kv
// head and loops over the query heads that share it. Tiles of 64 keys (queries) per step.
#include "common.cuh"
#include "kernels.h"
#include "runtime.h"
#include <cstdint>
#include <stdexcept>

namespace mm {

namespace {

constexpr int WARPS = 4;
constexpr int ROWS = 16 * WARPS;  // queries (forward, dQ) or keys (dK/dV) per block
constexpr int TILE = 64;          // keys (forward, dQ) or queries (dK/dV) per step
constexpr float LOG2E = 1.4426950408889634f;

__device__ inline uint32_t pack(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}
__device__ inline uint32_t ld32(const __nv_bfloat16* p) { return *reinterpret_cast<const uint32_t*>(p); }

__device__ inline void mma(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two consecutive elements as a bf16 pair: rounded from float32, or read as they are (bf16 activations).
__device__ inline uint32_t pair(const float* p) { return pack(p[0], p[1]); }
__device__ inline uint32_t pair(const __nv_bfloat16* p) { return ld32(p); }

// A-fragments of 16 rows x D of a float32 or bf16 matrix (row r at src + r * stride), rows >= nrows as zeros.
template <int D, typename T>
__device__ inline void load_a(uint32_t (*a)[4], const T* src, long long stride, int nrows, int g, int t) {
#pragma unroll
  for (int kc = 0; kc < D / 16; kc++) {
    const int c = kc * 16 + 2 * t;
    const T* r0 = src + (long long)g * stride;
    const T* r1 = src + (long long)(g + 8) * stride;
    const bool v0 = g < nrows, v1 = g + 8 < nrows;
    a[kc][0] = v0 ? pair(r0 + c) : 0u;
    a[kc][1] = v1 ? pair(r1 + c) : 0u;
    a[kc][2] = v0 ? pair(r0 + c + 8) : 0u;
    a[kc][3] = v1 ? pair(r1 + c + 8) : 0u;
  }
}

// Tiles are double-buffered: while the warps compute on one, cp.async fills the other.
template <int D>
using Tile = __nv_bfloat16[TILE][D + 8];

// Queues the copy of TILE rows of D bf16 (row r at src + r * stride; rows >= nrows as zeros) into
// X[TILE][D + 8], 16 bytes per cp.async (no registers, no wait here). The +8 pad keeps fragment
// reads of consecutive rows on different banks.
template <int D>
__device__ inline void stage(__nv_bfloat16 (*X)[D + 8], const __nv_bfloat16* src, long long stride, int nrows) {
  constexpr int CH = D / 8;  // 16-byte chunks per row
  for (int e = threadIdx.x; e < TILE * CH; e += WARPS * 32) {
    const int r = e / CH, c = (e - r * CH) * 8;
    const bool ok = r < nrows;
    const uint32_t dst = (uint32_t)__cvta_generic_to_shared(&X[r][c]);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(ok ? src + (long long)r * stride + c : src), "r"(ok ? 16 : 0));
  }
}
__device__ inline void stage_commit() { asm volatile("cp.async.commit_group;\n"); }
// Queues the key and value tiles that start at key j0 (of kend) as one group.
template <int D>
__device__ inline void stage_kv(__nv_bfloat16 (*Ks)[D + 8], __nv_bfloat16 (*Vs)[D + 8], const __nv_bfloat16* kb, const __nv_bfloat16* vb, long long kstride, int j0, int kend) {
  stage<D>(Ks, kb + j0 * kstride, kstride, kend - j0);
  stage<D>(Vs, vb + j0 * kstride, kstride, kend - j0);
  stage_commit();
}
// Waits for the tile of this iteration: all but the newest group when another tile is in flight.
__device__ inline void stage_wait(bool next_in_flight) {
  if (next_in_flight) asm volatile("cp.async.wait_group 1;\n");
  else asm volatile("cp.async.wait_group 0;\n");
}

// The B-fragment (16 k x 8 n) of rows k0..k0+15, columns n0..n0+7 of a row-major [k][n] tile:
// ldmatrix.trans hands lane 4g+t the elements (k 2t, 2t+1; n g) and (k 2t+8, 2t+9; n g).
template <int D>
__device__ inline void b_trans(uint32_t& r0, uint32_t& r1, __nv_bfloat16 (*X)[D + 8], int k0, int n0, int lane) {
  const uint32_t a = (uint32_t)__cvta_generic_to_shared(&X[k0 + (lane & 15)][n0]);
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n" : "=r"(r0), "=r"(r1) : "r"(a));
}

// A gradient output: added to (accumulate) or overwritten.
__device__ inline float acc_out(float old, float v, bool accumulate) { return accumulate ? old + v : v; }

// Row max / sum over the 4 lanes that share a row.
__device__ inline float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ inline float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

// T: the element type of q and out (float32, or bf16 activations)
template <int D, typename T>
__global__ void __launch_bounds__(WARPS * 32) k_attention_forward_tc(T* out, float* lse, const T* q, const __nv_bfloat16* k, const __nv_bfloat16* v, int Tq, int Tk, int H, int KVH, float scale) {
  extern __shared__ __align__(16) unsigned char smem[];
  Tile<D>* Ks = reinterpret_cast<Tile<D>*>(smem);  // [2]
  Tile<D>* Vs = Ks + 2;                            // [2]
  const int b = blockIdx.z, h = blockIdx.y, kvh = h / (H / KVH);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int q0 = blockIdx.x * ROWS + warp * 16;  // this warp's first query
  const int offset = Tk - Tq;
  const long long qstride = (long long)H * D, kstride = (long long)KVH * D;
  uint32_t qa[D / 16][4];
  load_a<D>(qa, q + (((long long)b * Tq + q0) * H + h) * D, qstride, Tq - q0, g, t);
  float o[D / 8][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
  const float sl2 = scale * LOG2E;
  const int rows[2] = {q0 + g, q0 + g + 8};
  const int kend = offset + min(Tq, (int)blockIdx.x * ROWS + ROWS);
  const __nv_bfloat16* kb = k + ((long long)b * Tk * KVH + kvh) * D;
  const __nv_bfloat16* vb = v + ((long long)b * Tk * KVH + kvh) * D;
  const int ntiles = (kend + TILE - 1) / TILE;
  stage_kv<D>(Ks[0], Vs[0], kb, vb, kstride, 0, kend);
  for (int it = 0; it < ntiles; it++) {
    const int j0 = it * TILE, cur = it & 1;
    const bool more = it + 1 < ntiles;
    if (more) stage_kv<D>(Ks[cur ^ 1], Vs[cur ^ 1], kb, vb, kstride, j0 + TILE, kend);
    stage_wait(more);
    __syncthreads();
    float s[TILE / 8][4] = {};
#pragma unroll
    for (int nt = 0; nt < TILE / 8; nt++)
#pragma unroll
      for (int kc = 0; kc < D / 16; kc++) mma(s[nt], qa[kc], ld32(&Ks[cur][nt * 8 + g][kc * 16 + 2 * t]), ld32(&Ks[cur][nt * 8 + g][kc * 16 + 2 * t + 8]));
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < TILE / 8; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int r = e / 2, key = j0 + nt * 8 + 2 * t + (e & 1);
        const bool ok = rows[r] < Tq && key <= offset + rows[r];
        s[nt][e] = ok ? s[nt][e] * sl2 : -INFINITY;
        mx[r] = fmaxf(mx[r], s[nt][e]);
      }
    float corr[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
      const float mn = fmaxf(m[r], quad_max(mx[r]));
      corr[r] = mn == -INFINITY ? 1.f : exp2f(m[r] - mn);
      m[r] = mn;
      l[r] *= corr[r];
    }
#pragma unroll
    for (int nt = 0; nt < TILE / 8; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int r = e / 2;
        const float p = m[r] == -INFINITY ? 0.f : exp2f(s[nt][e] - m[r]);
        s[nt][e] = p;
        l[r] += p;
      }
#pragma unroll
    for (int dt = 0; dt < D / 8; dt++) { o[dt][0] *= corr[0]; o[dt][1] *= corr[0]; o[dt][2] *= corr[1]; o[dt][3] *= corr[1]; }
#pragma unroll
    for (int kc = 0; kc < TILE / 16; kc++) {
      const uint32_t pa[4] = {pack(s[2 * kc][0], s[2 * kc][1]), pack(s[2 * kc][2], s[2 * kc][3]), pack(s[2 * kc + 1][0], s[2 * kc + 1][1]), pack(s[2 * kc + 1][2], s[2 * kc + 1][3])};
#pragma unroll
      for (int dt = 0; dt < D / 8; dt++) {
        uint32_t b0, b1;
        b_trans<D>(b0, b1, Vs[cur], kc * 16, dt * 8, lane);
        mma(o[dt], pa, b0, b1);
      }
    }
    __syncthreads();  // every warp is done with this buffer before the next iteration refills it
  }
#pragma unroll
  for (int r = 0; r < 2; r++) {
    const float sum = quad_sum(l[r]);
    if (rows[r] >= Tq) continue;
    const float inv = 1.f / sum;
    T* orow = out + (((long long)b * Tq + rows[r]) * H + h) * D;
#pragma unroll
    for (int dt = 0; dt < D / 8; dt++) {
      stf(orow, dt * 8 + 2 * t, o[dt][2 * r] * inv);
      stf(orow, dt * 8 + 2 * t + 1, o[dt][2 * r + 1] * inv);
    }
    if (t == 0) lse[((long long)b * H + h) * Tq + rows[r]] = (m[r] + log2f(sum)) / LOG2E;
  }
}

// TQ: the element type of q and dout (float32, or bf16 activations and their gradient)
template <int D, typename TQ>
__global__ void __launch_bounds__(WARPS * 32) k_attention_backward_dq_tc(float* dq, const TQ* dout, const TQ* q, const __nv_bfloat16* k, const __nv_bfloat16* v, const float* lse, const float* delta, int Tq, int Tk, int H, int KVH, float scale, bool accumulate) {
  extern __shared__ __align__(16) unsigned char smem[];
  Tile<D>* Ks = reinterpret_cast<Tile<D>*>(smem);  // [2]
  Tile<D>* Vs = Ks + 2;                            // [2]
  const int b = blockIdx.z, h = blockIdx.y, kvh = h / (H / KVH);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int q0 = blockIdx.x * ROWS + warp * 16;
  const int offset = Tk - Tq;
  const long long qstride = (long long)H * D, kstride = (long long)KVH * D;
  uint32_t qa[D / 16][4], ga[D / 16][4];
  load_a<D>(qa, q + (((long long)b * Tq + q0) * H + h) * D, qstride, Tq - q0, g, t);
  load_a<D>(ga, dout + (((long long)b * Tq + q0) * H + h) * D, qstride, Tq - q0, g, t);
  float acc[D / 8][4] = {};
  const int rows[2] = {q0 + g, q0 + g + 8};
  float L[2], Dl[2];
#pragma unroll
  for (int r = 0; r < 2; r++) {
    const long long i = ((long long)b * H + h) * Tq + rows[r];
    L[r] = rows[r] < Tq ? lse[i] * LOG2E : 0.f;
    Dl[r] = rows[r] < Tq ? delta[i] : 0.f;
  }
  const float sl2 = scale * LOG2E;
  const int kend = offset + min(Tq, (int)blockIdx.x * ROWS + ROWS);
  const __nv_bfloat16* kb = k + ((long long)b * Tk * KVH + kvh) * D;
  const __nv_bfloat16* vb = v + ((long long)b * Tk * KVH + kvh) * D;
  const int ntiles = (kend + TILE - 1) / TILE;
  stage_kv<D>(Ks[0], Vs[0], kb, vb, kstride, 0, kend);
  for (int it = 0; it < ntiles; it++) {
    const int j0 = it * TILE, cur = it & 1;
    const bool more = it + 1 < ntiles;
    if (more) stage_kv<D>(Ks[cur ^ 1], Vs[cur ^ 1], kb, vb, kstride, j0 + TILE, kend);
    stage_wait(more);
    __syncthreads();
    float s[TILE / 8][4] = {}, dp[TILE / 8][4] = {};
#pragma unroll
    for (int nt = 0; nt < TILE / 8; nt++)
#pragma unroll
      for (int kc = 0; kc < D / 16; kc++) {
        mma(s[nt], qa[kc], ld32(&Ks[cur][nt * 8 + g][kc * 16 + 2 * t]), ld32(&Ks[cur][nt * 8 + g][kc * 16 + 2 * t + 8]));
        mma(dp[nt], ga[kc], ld32(&Vs[cur][nt * 8 + g][kc * 16 + 2 * t]), ld32(&Vs[cur][nt * 8 + g][kc * 16 + 2 * t + 8]));
      }
#pragma unroll
    for (int nt = 0; nt < TILE / 8; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int r = e / 2, key = j0 + nt * 8 + 2 * t + (e & 1);
        const bool ok = rows[r] < Tq && key <= offset + rows[r];
        const float p = ok ? exp2f(s[nt][e] * sl2 - L[r]) : 0.f;
        s[nt][e] = p * (dp[nt][e] - Dl[r]);  // dS
      }
#pragma unroll
    for (int kc = 0; kc < TILE / 16; kc++) {
      const uint32_t da[4] = {pack(s[2 * kc][0], s[2 * kc][1]), pack(s[2 * kc][2], s[2 * kc][3]), pack(s[2 * kc + 1][0], s[2 * kc + 1][1]), pack(s[2 * kc + 1][2], s[2 * kc + 1][3])};
#pragma unroll
      for (int dt = 0; dt < D / 8; dt++) {
        uint32_t b0, b1;
        b_trans<D>(b0, b1, Ks[cur], kc * 16, dt * 8, lane);
        mma(acc[dt], da, b0, b1);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 2; r++) {
    if (rows[r] >= Tq) continue;
    float* row = dq + (((long long)b * Tq + rows[r]) * H + h) * D;
#pragma unroll
    for (int dt = 0; dt < D / 8; dt++) {
      row[dt * 8 + 2 * t] = acc_out(row[dt * 8 + 2 * t], acc[dt][2 * r] * scale, accumulate);
      row[dt * 8 + 2 * t + 1] = acc_out(row[dt * 8 + 2 * t + 1], acc[dt][2 * r + 1] * scale, accumulate);
    }
  }
}

template <int D, typename TK>
__global__ void __launch_bounds__(WARPS * 32) k_attention_backward_dkdv_tc(float* dk, float* dv, const __nv_bfloat16* dout, const __nv_bfloat16* q, const TK* k, const TK* v, const float* lse, const float* delta, int Tq, int Tk, int Tcap, int H, int KVH, float scale, bool acc_dk, bool acc_dv) {
  extern __shared__ __align__(16) unsigned char smem[];
  Tile<D>* Qs = reinterpret_cast<Tile<D>*>(smem);  // [2]
  Tile<D>* Gs = Qs + 2;                            // [2]
  float (*Ls)[TILE] = reinterpret_cast<float (*)[TILE]>(Gs + 2);  // [2]
  float (*Ds)[TILE] = Ls + 2;                                    // [2]
  const int b = blockIdx.z, kvh = blockIdx.y;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int k0 = blockIdx.x * ROWS + warp * 16;  // this warp's first key
  const int offset = Tk - Tq;
  const long long qstride = (long long)H * D, kstride = (long long)KVH * D;
  uint32_t ka[D / 16][4], va[D / 16][4];
  load_a<D>(ka, k + (((long long)b * Tcap + k0) * KVH + kvh) * D, kstride, Tk - k0, g, t);
  load_a<D>(va, v + (((long long)b * Tcap + k0) * KVH + kvh) * D, kstride, Tk - k0, g, t);
  float dka[D / 8][4] = {}, dva[D / 8][4] = {};
  const int keys[2] = {k0 + g, k0 + g + 8};
  const float sl2 = scale * LOG2E;
  const int group = H / KVH;
  const int t_start = max(0, (int)blockIdx.x * ROWS - offset) / TILE * TILE;  // earlier queries see none of these keys
  // one pipeline over (query head of this group, query tile): tile `it` is head it / ntq, queries t_start + (it % ntq) * TILE
  const int ntq = (Tq - t_start + TILE - 1) / TILE, ntiles = group * ntq;
  // queues tile i into buffer buf (Q, dO by cp.async; the log-sum-exp and delta rows by plain loads)
  auto issue = [&](int i, int buf) {
    const int h = kvh * group + i / ntq, t0 = t_start + (i % ntq) * TILE, n = Tq - t0;
    stage<D>(Qs[buf], q + (((long long)b * Tq + t0) * H + h) * D, qstride, n);
    stage<D>(Gs[buf], dout + (((long long)b * Tq + t0) * H + h) * D, qstride, n);
    stage_commit();
    const float* lb = lse + ((long long)b * H + h) * Tq + t0;
    const float* db = delta + ((long long)b * H + h) * Tq + t0;
    for (int j = threadIdx.x; j < TILE; j += WARPS * 32) {
      Ls[buf][j] = j < n ? lb[j] * LOG2E : 0.f;
      Ds[buf][j] = j < n ? db[j] : 0.f;
    }
  };
  if (ntiles > 0) issue(0, 0);
  for (int it = 0; it < ntiles; it++) {
    const int cur = it & 1, t0 = t_start + (it % ntq) * TILE;
    const bool more = it + 1 < ntiles;
    if (more) issue(it + 1, cur ^ 1);
    stage_wait(more);
    __syncthreads();
    {
      float st[TILE / 8][4] = {}, dpt[TILE / 8][4] = {};
#pragma unroll
      for (int nt = 0; nt < TILE / 8; nt++)
#pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
          mma(st[nt], ka[kc], ld32(&Qs[cur][nt * 8 + g][kc * 16 + 2 * t]), ld32(&Qs[cur][nt * 8 + g][kc * 16 + 2 * t + 8]));
          mma(dpt[nt], va[kc], ld32(&Gs[cur][nt * 8 + g][kc * 16 + 2 * t]), ld32(&Gs[cur][nt * 8 + g][kc * 16 + 2 * t + 8]));
        }
#pragma unroll
      for (int nt = 0; nt < TILE / 8; nt++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
          const int r = e / 2, qi = nt * 8 + 2 * t + (e & 1);  // query within the tile
          const bool ok = t0 + qi < Tq && keys[r] < Tk && keys[r] <= offset + t0 + qi;
          const float p = ok ? exp2f(st[nt][e] * sl2 - Ls[cur][qi]) : 0.f;
          st[nt][e] = p;                                // P^T
          dpt[nt][e] = p * (dpt[nt][e] - Ds[cur][qi]);  // dS^T
        }
#pragma unroll
      for (int kc = 0; kc < TILE / 16; kc++) {
        const uint32_t pa[4] = {pack(st[2 * kc][0], st[2 * kc][1]), pack(st[2 * kc][2], st[2 * kc][3]), pack(st[2 * kc + 1][0], st[2 * kc + 1][1]), pack(st[2 * kc + 1][2], st[2 * kc + 1][3])};
        const uint32_t sa[4] = {pack(dpt[2 * kc][0], dpt[2 * kc][1]), pack(dpt[2 * kc][2], dpt[2 * kc][3]), pack(dpt[2 * kc + 1][0], dpt[2 * kc + 1][1]), pack(dpt[2 * kc + 1][2], dpt[2 * kc + 1][3])};
#pragma unroll
        for (int dt = 0; dt < D / 8; dt++) {
          uint32_t b0, b1;
          b_trans<D>(b0, b1, Gs[cur], kc * 16, dt * 8, lane);
          mma(dva[dt], pa, b0, b1);
          b_trans<D>(b0, b1, Qs[cur], kc * 16, dt * 8, lane);
          mma(dka[dt], sa, b0, b1);
        }
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 2; r++) {
    if (keys[r] >= Tk) continue;
    const long long off = (((long long)b * Tcap + keys[r]) * KVH + kvh) * D;
#pragma unroll
    for (int dt = 0; dt < D / 8; dt++) {
      dk[off + dt * 8 + 2 * t] = acc_out(dk[off + dt * 8 + 2 * t], dka[dt][2 * r] * scale, acc_dk);
      dk[off + dt * 8 + 2 * t + 1] = acc_out(dk[off + dt * 8 + 2 * t + 1], dka[dt][2 * r + 1] * scale, acc_dk);
      dv[off + dt * 8 + 2 * t] = acc_out(dv[off + dt * 8 + 2 * t], dva[dt][2 * r], acc_dv);
      dv[off + dt * 8 + 2 * t + 1] = acc_out(dv[off + dt * 8 + 2 * t + 1], dva[dt][2 * r + 1], acc_dv);
    }
  }
}

// out (B, T, inner) bf16 = rows [0, T) of x (B, Tcap, inner) fp32; inner % 4 == 0
__global__ void k_bf16_rows(__nv_bfloat162* out, const float4* x, long long T4, long long Tcap4, long long n4) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n4; i += (long long)gridDim.x * blockDim.x) {
    const long long b = i / T4;
    const float4 f = x[b * Tcap4 + (i - b * T4)];
    out[2 * i] = __floats2bfloat162_rn(f.x, f.y);
    out[2 * i + 1] = __floats2bfloat162_rn(f.z, f.w);
  }
}

// A bf16 copy of the first T rows of each batch of x (B, Tcap, inner), from the caching allocator
// (stream-ordered: freeing it right after the kernels that read it is safe).
__nv_bfloat16* bf16_rows(const float* x, int B, int T, int Tcap, long long inner) {
  const long long n4 = (long long)B * T * inner / 4;
  auto* out = (__nv_bfloat16*)device_alloc((size_t)n4 * 8);
  if (n4 > 0) k_bf16_rows<<<blocks_for(n4), 256, 0, stream>>>((__nv_bfloat162*)out, (const float4*)x, (long long)T * inner / 4, (long long)Tcap * inner / 4, n4);
  check_launch("bf16_rows");
  return out;
}

// Dynamic shared memory of a kernel: two buffers of two tiles (+ the dK/dV kernel's lse / delta rows).
template <int D>
constexpr size_t tiles_smem(bool rows) { return 4 * sizeof(Tile<D>) + (rows ? 4 * TILE * sizeof(float) : 0); }
// Head dims 96 and 128 need more than the default 48 KB of dynamic shared memory: opt in once per kernel.
template <typename K>
void allow_smem(K kernel, size_t bytes) {
  if (bytes > 48 * 1024) check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes), "attention: shared memory");
}

}  // namespace

#define FOR_EACH_TC_HEAD_DIM(X) X(16) X(32) X(48) X(64) X(96) X(128)

bool attention_tc_supports(int D) { return D == 16 || D == 32 || D == 48 || D == 64 || D == 96 || D == 128; }

// bf16 operands are read in place (a bf16 k or v has Tcap == Tk: bf16 keys never come from a cache);
// float32 ones are rounded into bf16 copies first
static const __nv_bfloat16* bf16_operand(const void* x, bool is_bf16, int B, int T, int Tcap, long long inner, __nv_bfloat16** owned) {
  if (is_bf16) {
    if (T != Tcap) throw std::runtime_error("attention: bf16 keys/values must fill their buffer (Tk == Tcap)");
    return (const __nv_bfloat16*)x;
  }
  return *owned = bf16_rows((const float*)x, B, T, Tcap, inner);
}

void attention_forward_tc(void* out, float* lse, const void* q, const void* k, const void* v, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale, bool q_bf16, bool k_bf16, bool v_bf16) {
  dim3 grid((Tq + ROWS - 1) / ROWS, H, B);
  __nv_bfloat16 *kown = nullptr, *vown = nullptr;
  const __nv_bfloat16* kh = bf16_operand(k, k_bf16, B, Tk, Tcap, (long long)KVH * D, &kown);
  const __nv_bfloat16* vh = bf16_operand(v, v_bf16, B, Tk, Tcap, (long long)KVH * D, &vown);
#define CASE(DD)                                                                                           \
  case DD: {                                                                                               \
    static bool once = (allow_smem(k_attention_forward_tc<DD, float>, tiles_smem<DD>(false)),              \
                        allow_smem(k_attention_forward_tc<DD, __nv_bfloat16>, tiles_smem<DD>(false)), true); \
    (void)once;                                                                                            \
    if (q_bf16)                                                                                            \
      k_attention_forward_tc<DD><<<grid, WARPS * 32, tiles_smem<DD>(false), stream>>>((__nv_bfloat16*)out, lse, (const __nv_bfloat16*)q, kh, vh, Tq, Tk, H, KVH, scale); \
    else                                                                                                   \
      k_attention_forward_tc<DD><<<grid, WARPS * 32, tiles_smem<DD>(false), stream>>>((float*)out, lse, (const float*)q, kh, vh, Tq, Tk, H, KVH, scale); \
    break;                                                                                                 \
  }
  switch (D) { FOR_EACH_TC_HEAD_DIM(CASE) default: break; }
#undef CASE
  check_launch("attention_forward_tc");
  if (kown) device_free(kown);
  if (vown) device_free(vown);
}

void attention_backward_tc(float* dq, float* dk, float* dv, const void* dout, const void* q, const void* k, const void* v, const float* lse, const float* delta, int B, int Tq, int Tk, int Tcap, int H, int KVH, int D, float scale, bool acc_dq, bool acc_dk, bool acc_dv, bool q_bf16, bool k_bf16, bool v_bf16, bool dout_bf16) {
  dim3 grid_q((Tq + ROWS - 1) / ROWS, H, B), gk((Tk + ROWS - 1) / ROWS, KVH, B);
  __nv_bfloat16 *qown = nullptr, *kown = nullptr, *vown = nullptr;
  const __nv_bfloat16* qh = bf16_operand(q, q_bf16, B, Tq, Tq, (long long)H * D, &qown);
  __nv_bfloat16* gown = nullptr;
  const __nv_bfloat16* gh = bf16_operand(dout, dout_bf16, B, Tq, Tq, (long long)H * D, &gown);
  // the dQ kernel reads dout with q's element type: the bf16 one with a bf16 q, else a float32 one
  float* gf32 = nullptr;
  if (!q_bf16 && dout_bf16) {
    gf32 = (float*)device_alloc((size_t)B * Tq * H * D * sizeof(float));
    to_f32(gf32, dout, (long long)B * Tq * H * D);
  }
  const float* gq = gf32 ? gf32 : (const float*)dout;
  const __nv_bfloat16* kh = bf16_operand(k, k_bf16, B, Tk, Tcap, (long long)KVH * D, &kown);
  const __nv_bfloat16* vh = bf16_operand(v, v_bf16, B, Tk, Tcap, (long long)KVH * D, &vown);
  // the dK/dV kernel reads k and v into registers with one element type
  if (k_bf16 != v_bf16) throw std::runtime_error("attention: keys and values must be stored in one precision");
#define CASE(DD)                                                                                                                  \
  case DD: {                                                                                                                      \
    static bool once = (allow_smem(k_attention_backward_dq_tc<DD, float>, tiles_smem<DD>(false)),                                \
                        allow_smem(k_attention_backward_dq_tc<DD, __nv_bfloat16>, tiles_smem<DD>(false)),                        \
                        allow_smem(k_attention_backward_dkdv_tc<DD, float>, tiles_smem<DD>(true)),                               \
                        allow_smem(k_attention_backward_dkdv_tc<DD, __nv_bfloat16>, tiles_smem<DD>(true)), true);                \
    (void)once;                                                                                                                   \
    if (q_bf16) k_attention_backward_dq_tc<DD><<<grid_q, WARPS * 32, tiles_smem<DD>(false), stream>>>(dq, gh, (const __nv_bfloat16*)q, kh, vh, lse, delta, Tq, Tk, H, KVH, scale, acc_dq); \
    else k_attention_backward_dq_tc<DD><<<grid_q, WARPS * 32, tiles_smem<DD>(false), stream>>>(dq, gq, (const float*)q, kh, vh, lse, delta, Tq, Tk, H, KVH, scale, acc_dq); \
    check_launch("attention_backward_dq_tc");                                                                                     \
    if (k_bf16) k_attention_backward_dkdv_tc<DD><<<gk, WARPS * 32, tiles_smem<DD>(true), stream>>>(dk, dv, gh, qh, (const __nv_bfloat16*)k, (const __nv_bfloat16*)v, lse, delta, Tq, Tk, Tcap, H, KVH, scale, acc_dk, acc_dv); \
    else k_attention_backward_dkdv_tc<DD><<<gk, WARPS * 32, tiles_smem<DD>(true), stream>>>(dk, dv, gh, qh, (const float*)k, (const float*)v, lse, delta, Tq, Tk, Tcap, H, KVH, scale, acc_dk, acc_dv); \
    check_launch("attention_backward_dkdv_tc");                                                                                   \
    break;                                                                                                                        \
  }
  switch (D) { FOR_EACH_TC_HEAD_DIM(CASE) default: break; }
#undef CASE
  for (auto* p : {qown, kown, vown, gown}) if (p) device_free(p);
  if (gf32) device_free(gf32);
}

}  // namespace mm
