// Causal grouped-query attention, flash-style: queries are processed in blocks of QB (128) rows, and a
// block only ever holds its QB x (keys it can see) scores, never the T x T matrix. Each block is
// small GEMMs, run single-threaded inside the per-block threads: the score products on the packed
// SGEMM, the head-dim-wide ones (P V, dS K, dS^T Q, P^T dO) on attention_rows.cc's unpacked kernel in
// fp32 on AVX-512, on the packed SGEMM otherwise:
//   forward   S = Q_b K^T -> causal mask, exact softmax over the row (lse saved) -> O_b = P V
//   backward  recompute P from lse; dP = dO_b V^T; dS = P * (dP - rowsum(dO * O)) * scale;
//             dQ_b += dS K;  dK += dS^T Q_b;  dV += P^T dO_b
// Backward threads own whole (batch, kv-head) groups, so dK / dV accumulate without races.
// Layouts: q (B, Tq, H, D); k, v (B, Tcap, KVH, D), first Tk positions used; query i sees keys
// 0 .. Tk - Tq + i; lse (B, H, Tq).
#include "gemm.h"
#include "kernels.h"

namespace mm {

static const i64 QB = 128;

// The block GEMMs: fp32, or bf16 operands with fp32 accumulation (AMX) in bf16 mode — as PyTorch's
// bf16 autocast runs attention in bf16. Single-threaded: the caller's tasks are the parallelism.
static inline void block_gemm(bool ta, bool tb, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                              bool acc) {
  if (matmul_bf16())
    sgemm_bf16(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc, 1);
  else
    sgemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc, 1);
}

// C (m x D) (+)= op(A) B, op(A) = A (m x kdim, lda) or A^T (A: kdim x m), B (kdim x D) rows ldb apart:
// the AVX-512 row kernel in fp32 (attention_rows.cc: no packing), else the block GEMM.
static inline void rows_product(float* C, i64 ldc, const float* A, i64 lda, bool transA, const float* B, i64 ldb, i64 m, i64 kdim, i64 D,
                                bool acc) {
  if (!matmul_bf16() && attention_rows_gemm(C, ldc, A, transA ? 1 : lda, transA ? lda : 1, B, ldb, m, kdim, D, acc)) return;
  block_gemm(transA, false, m, D, kdim, A, lda, B, ldb, C, ldc, acc);
}

MM_CLONES float row_max_n(const float* x, i64 n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (i64 c = 0; c < n; c++) m = std::max(m, x[c]);
  return m;
}
// p = exp(s * scale - shift) over n entries, returns the sum
MM_CLONES float exp_scaled(float* p, float scale, float shift, i64 n) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (i64 c = 0; c < n; c++) {
    float e = fast_exp(p[c] * scale - shift);
    p[c] = e;
    sum += e;
  }
  return sum;
}
MM_CLONES void scale_row(float* p, float k, i64 n) {
  for (i64 c = 0; c < n; c++) p[c] *= k;
}
// ds = p * (dp - delta) * scale, in place in dp
MM_CLONES void ds_row(float* dp, const float* p, float delta, float scale, i64 n) {
  for (i64 c = 0; c < n; c++) dp[c] = p[c] * (dp[c] - delta) * scale;
}
MM_CLONES float dot_n(const float* a, const float* b, i64 n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (i64 c = 0; c < n; c++) s += a[c] * b[c];
  return s;
}

// delta[r] = dout_r . out_r for `rows` rows ld apart (one call a block: the per-row calls of dot_n,
// through the multi-versioning dispatch, cost more than the 32-wide dot products themselves)
MM_CLONES void row_dots(float* delta, const float* a, const float* b, i64 ld, i64 rows, i64 n) {
  for (i64 r = 0; r < rows; r++) {
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (i64 c = 0; c < n; c++) s += a[r * ld + c] * b[r * ld + c];
    delta[r] = s;
  }
}

MM_CLONES void axpy_n(float* y, const float* x, float a, i64 n) {
  for (i64 c = 0; c < n; c++) y[c] += a * x[c];
}

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v, i64 B, i64 Tq, i64 Tk, i64 Tcap, i64 H,
                       i64 KVH, i64 D, float scale) {
  if (Tq == 1 && attention_one_query(out, lse, q, k, v, B, Tk, Tcap, H, KVH, D, scale)) return;
  const i64 group = H / KVH, nqb = (Tq + QB - 1) / QB, off = Tk - Tq;
  const i64 items = B * H * nqb;
  const i64 ldq = H * D, ldk = KVH * D;
  int nt = num_threads();
  if (items < 2 || (double)Tq * Tk * D * H * B < 2e5) nt = 1;
  parallel_tasks(items, nt, [&](i64 it) {
    const i64 qb = it % nqb, h = (it / nqb) % H, b = it / (nqb * H);
    const i64 kvh = h / group;
    const i64 i0 = qb * QB, rows = std::min(QB, Tq - i0);
    const i64 kn = std::min(Tk, off + i0 + rows);  // keys visible to the last row of the block
    float* S = scratch(2, (size_t)QB * std::max<i64>(kn, 1));
    const float* qp = q + (b * Tq + i0) * ldq + h * D;
    const float* kp = k + b * Tcap * ldk + kvh * D;
    const float* vp = v + b * Tcap * ldk + kvh * D;
    if (rows == 1) {
      // one query (a decode step): dot products and row axpys straight over the cache, no GEMM set-up
      float* o = out + (b * Tq + i0) * ldq + h * D;
      for (i64 c = 0; c < kn; c++) S[c] = dot_n(qp, kp + c * ldk, D);
      const float m = row_max_n(S, kn) * scale;
      const float sum = exp_scaled(S, scale, m, kn);
      lse[(b * H + h) * Tq + i0] = m + std::log(sum);
      const float inv = 1.f / sum;
      std::memset(o, 0, sizeof(float) * D);
      for (i64 c = 0; c < kn; c++) axpy_n(o, vp + c * ldk, S[c] * inv, D);
      return;
    }
    block_gemm(false, true, rows, kn, D, qp, ldq, kp, ldk, S, kn, false);
    for (i64 r = 0; r < rows; r++) {
      float* s = S + r * kn;
      const i64 vis = std::min(kn, off + i0 + r + 1);
      float m = row_max_n(s, vis) * scale;
      float sum = exp_scaled(s, scale, m, vis);
      scale_row(s, 1.f / sum, vis);
      for (i64 c = vis; c < kn; c++) s[c] = 0.f;
      lse[(b * H + h) * Tq + i0 + r] = m + std::log(sum);
    }
    rows_product(out + (b * Tq + i0) * ldq + h * D, ldq, S, kn, false, vp, ldk, rows, kn, D, false);
  });
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, i64 B, i64 Tq, i64 Tk, i64 Tcap, i64 H, i64 KVH, i64 D, float scale) {
  const i64 group = H / KVH, nqb = (Tq + QB - 1) / QB, off = Tk - Tq;
  const i64 ldq = H * D, ldk = KVH * D;
  const i64 items = B * KVH;
  int nt = num_threads();
  if (items < 2 || (double)Tq * Tk * D * H * B < 2e5) nt = 1;
  parallel_tasks(items, nt, [&](i64 it) {
    const i64 b = it / KVH, kvh = it % KVH;
    const float* kp = k + b * Tcap * ldk + kvh * D;
    const float* vp = v + b * Tcap * ldk + kvh * D;
    float* dkp = dk + b * Tcap * ldk + kvh * D;
    float* dvp = dv + b * Tcap * ldk + kvh * D;
    for (i64 h = kvh * group; h < (kvh + 1) * group; h++) {
      for (i64 qb = 0; qb < nqb; qb++) {
        const i64 i0 = qb * QB, rows = std::min(QB, Tq - i0);
        const i64 kn = std::min(Tk, off + i0 + rows);
        if (kn <= 0) continue;  // (a query block with no visible key: only when Tk < Tq, rejected by the glue)
        float* P = scratch(2, (size_t)QB * kn);
        float* dP = scratch(3, (size_t)QB * kn);
        const i64 qoff = (b * Tq + i0) * ldq + h * D;
        block_gemm(false, true, rows, kn, D, q + qoff, ldq, kp, ldk, P, kn, false);
        block_gemm(false, true, rows, kn, D, dout + qoff, ldq, vp, ldk, dP, kn, false);
        float delta[QB];
        row_dots(delta, dout + qoff, out + qoff, ldq, rows, D);
        for (i64 r = 0; r < rows; r++) {
          float* p = P + r * kn;
          float* dp = dP + r * kn;
          const i64 vis = std::min(kn, off + i0 + r + 1);
          const float l = lse[(b * H + h) * Tq + i0 + r];
          exp_scaled(p, scale, l, vis);
          for (i64 c = vis; c < kn; c++) p[c] = 0.f;
          ds_row(dp, p, delta[r], scale, kn);
        }
        rows_product(dq + qoff, ldq, dP, kn, false, kp, ldk, rows, kn, D, true);
        rows_product(dkp, ldk, dP, kn, true, q + qoff, ldq, kn, rows, D, true);
        rows_product(dvp, ldk, P, kn, true, dout + qoff, ldq, kn, rows, D, true);
      }
    }
  });
}

}  // namespace mm
