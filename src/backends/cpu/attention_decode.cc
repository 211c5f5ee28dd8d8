// One decode step of attention for S sequences, each with its own KV cache (continuous batching:
// a server decoding several streams), in one call instead of S (Backend.attentionDecode). Each
// task is one (sequence, kv head) pair: it writes the sequence's new k/v row of that head into
// the caches at pos[s], then, for the H / KVH query heads that share the kv head, computes the
// scores over positions 0 .. pos[s], their softmax and the weighted sum of v, reading each cached
// k and v row once for the whole group. Tasks run on the thread pool when there is enough work.
#include "attention_decode.h"

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
  // ~1 us to wake the pool: only worth it past a few tens of thousands of multiply-adds per thread
  const int nt = work < 32768.0 ? 1 : num_threads();
  parallel_tasks(S * KVH, nt, [&](i64 task) {
    const i64 s = task / KVH, g = task % KVH, p = pos[s];
    float* ks = kc[s] + g * D;
    float* vs = vc[s] + g * D;
    std::memcpy(ks + p * inner, k + s * inner + g * D, D * sizeof(float));
    std::memcpy(vs + p * inner, v + s * inner + g * D, D * sizeof(float));
    float* sc = scratch(0, (size_t)(G * (p + 1)));
    decode_group(out + (s * H + g * G) * D, q + (s * H + g * G) * D, ks, vs, p + 1, inner, G, D, scale, sc);
  });
}

}  // namespace mm
