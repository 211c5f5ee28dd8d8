// One decode step of attention for S sequences, each with its own KV cache (continuous batching:
// a server decoding several streams), in one call instead of S (Backend.attentionDecode). Each
// task is one sequence: it writes the sequence's new k/v row into its caches at pos[s], then
// attends its one query over positions 0 .. pos[s] with the one-query kernel of attention_one.cc
// (AVX-512; the heads of a KV group together), or, where that kernel does not apply, a portable
// loop per KV group. Tasks run on the thread pool when there is enough work.
#include "attention_decode.h"
#include "kernels.h"

namespace mm {

// scores[r][t] = scale * q_r . k_t for the G query rows of a group, then out_r = softmax(scores_r) . V.
MM_CLONES static void decode_group(float* out, const float* q, const float* k, const float* v, i64 len, i64 stride, i64 G, i64 D, float scale, float* sc) {
  for (i64 t = 0; t < len; t++) {
    const float* kt = k + t * stride;
    for (i64 r = 0; r < G; r++) {
      const float* qr = q + r * D;
      float dot = 0.f;
#pragma omp simd reduction(+ : dot)
      for (i64 d = 0; d < D; d++) dot += qr[d] * kt[d];
      sc[r * len + t] = dot * scale;
    }
  }
  for (i64 r = 0; r < G; r++) {
    float* s = sc + r * len;
    float mx = -INFINITY;
    for (i64 t = 0; t < len; t++) mx = std::max(mx, s[t]);
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (i64 t = 0; t < len; t++) {
      s[t] = fast_exp(s[t] - mx);
      sum += s[t];
    }
    const float inv = 1.f / sum;
#pragma omp simd
    for (i64 t = 0; t < len; t++) s[t] *= inv;
    float* o = out + r * D;
    for (i64 d = 0; d < D; d++) o[d] = 0.f;
  }
  for (i64 t = 0; t < len; t++) {
    const float* vt = v + t * stride;
    for (i64 r = 0; r < G; r++) {
      const float p = sc[r * len + t];
      float* o = out + r * D;
#pragma omp simd
      for (i64 d = 0; d < D; d++) o[d] += p * vt[d];
    }
  }
}

void attention_decode(float* out, const float* q, const float* k, const float* v, float* const* kc, float* const* vc, const int32_t* pos, i64 S, i64 H, i64 KVH, i64 D,
                      float scale) {
  const i64 G = H / KVH, inner = KVH * D;
  double work = 0;
  for (i64 s = 0; s < S; s++) work += (double)(pos[s] + 1) * H * D;
  // waking the pool costs ~1 us: only worth it past a few tens of thousands of multiply-adds
  const int nt = S < 2 || work < 32768.0 ? 1 : num_threads();
  parallel_tasks(S, nt, [&](i64 s) {
    const i64 p = pos[s];
    std::memcpy(kc[s] + p * inner, k + s * inner, inner * sizeof(float));
    std::memcpy(vc[s] + p * inner, v + s * inner, inner * sizeof(float));
    float* lse = scratch(1, (size_t)H);
    if (attention_one_query(out + s * H * D, lse, q + s * H * D, kc[s], vc[s], 1, p + 1, p + 1, H, KVH, D, scale)) return;
    float* sc = scratch(0, (size_t)(G * (p + 1)));
    for (i64 g = 0; g < KVH; g++) decode_group(out + (s * H + g * G) * D, q + (s * H + g * G) * D, kc[s] + g * D, vc[s] + g * D, p + 1, inner, G, D, scale, sc);
  });
}

}  // namespace mm
