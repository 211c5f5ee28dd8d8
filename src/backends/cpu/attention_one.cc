// Attention of one query per sequence (a decode step) over the KV cache, AVX-512. The general
// per-head loop (attention.cc) called a dot product and an axpy per key through multi-versioned
// functions that cannot inline, ~70 cycles per (key, head) pair: 0.7 ms of a 3 ms v1-small token.
// Here the G query heads that share a KV head are done together, so each key and value row is read
// once per group, with q and the output rows held in registers. Same arithmetic as attention.cc:
// s = q.k, exact softmax with lse = m + log(sum), o = sum_c p_c v_c / sum.
#include "kernels.h"
#ifdef MM_X86_INTRIN
#include <immintrin.h>
#endif

namespace mm {

#ifdef MM_X86_INTRIN
#define MM_ATT512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))

// p = exp(s * scale - shift) over n entries in place, returns the sum
MM_ATT512 static float exp_row(float* p, float scale, float shift, i64 n) {
  const __m512 vs = _mm512_set1_ps(scale), vsh = _mm512_set1_ps(shift);
  const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.3f), log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 c1 = _mm512_set1_ps(0.693359375f), c2 = _mm512_set1_ps(-2.12194440e-4f);
  __m512 sum = _mm512_setzero_ps();
  for (i64 c = 0; c < n; c += 16) {
    const __mmask16 m = n - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - c)) - 1);
    __m512 x = _mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, p + c), vs, vsh);
    // fast_exp of common.h, vectorised by hand: 2^n * poly(r), r = x - n ln2
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    const __m512 nn = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(nn, c1, x);
    r = _mm512_fnmadd_ps(nn, c2, r);
    __m512 q = _mm512_set1_ps(1.9875691500e-4f);
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.3981999507e-3f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(8.3334519073e-3f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(4.1665795894e-2f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.6666665459e-1f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(5.0000001201e-1f));
    q = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(q, r), r, r), _mm512_set1_ps(1.f));
    const __m512 e = _mm512_scalef_ps(q, nn);
    _mm512_mask_storeu_ps(p + c, m, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(m, e));
  }
  return _mm512_reduce_add_ps(sum);
}

// G heads (q rows D apart in q, output rows D apart in o) against kn keys of one KV head; NV = D / 16.
template <int NV, int G>
MM_ATT512 static void group_one(float* o, float* lse, const float* q, const float* kp, const float* vp, i64 ldk, i64 kn, float scale, float* S) {
  __m512 qv[G][NV];
  for (int g = 0; g < G; g++)
    for (int v = 0; v < NV; v++) qv[g][v] = _mm512_loadu_ps(q + g * NV * 16 + v * 16);
  for (i64 c = 0; c < kn; c++) {
    const float* kr = kp + c * ldk;
    // the cache rows are usually cold (the step's weight streaming evicted them): fetch ahead
    for (int v = 0; v < NV; v++) _mm_prefetch((const char*)(kr + 8 * ldk + 16 * v), _MM_HINT_T0);
    __m512 kv[NV];
    for (int v = 0; v < NV; v++) kv[v] = _mm512_loadu_ps(kr + v * 16);
    for (int g = 0; g < G; g++) {
      __m512 a = _mm512_mul_ps(qv[g][0], kv[0]);
      for (int v = 1; v < NV; v++) a = _mm512_fmadd_ps(qv[g][v], kv[v], a);
      S[g * kn + c] = _mm512_reduce_add_ps(a);
    }
  }
  float inv[G];
  for (int g = 0; g < G; g++) {
    float* s = S + g * kn;
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (i64 c = 0; c < kn; c += 16) {
      const __mmask16 m = kn - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (kn - c)) - 1);
      mv = _mm512_mask_max_ps(mv, m, mv, _mm512_maskz_loadu_ps(m, s + c));
    }
    const float mx = _mm512_reduce_max_ps(mv) * scale;
    const float sum = exp_row(s, scale, mx, kn);
    lse[g] = mx + std::log(sum);
    inv[g] = 1.f / sum;
  }
  __m512 acc[G][NV];
  for (int g = 0; g < G; g++)
    for (int v = 0; v < NV; v++) acc[g][v] = _mm512_setzero_ps();
  for (i64 c = 0; c < kn; c++) {
    const float* vr = vp + c * ldk;
    for (int v = 0; v < NV; v++) _mm_prefetch((const char*)(vr + 8 * ldk + 16 * v), _MM_HINT_T0);
    __m512 vv[NV];
    for (int v = 0; v < NV; v++) vv[v] = _mm512_loadu_ps(vr + v * 16);
    for (int g = 0; g < G; g++) {
      const __m512 p = _mm512_set1_ps(S[g * kn + c]);
      for (int v = 0; v < NV; v++) acc[g][v] = _mm512_fmadd_ps(p, vv[v], acc[g][v]);
    }
  }
  for (int g = 0; g < G; g++)
    for (int v = 0; v < NV; v++) _mm512_storeu_ps(o + g * NV * 16 + v * 16, _mm512_mul_ps(acc[g][v], _mm512_set1_ps(inv[g])));
}

// Heads of one KV group in chunks of up to 4 (NV * G <= 16 accumulators).
template <int NV>
MM_ATT512 static void group_chunks(float* o, float* lse, const float* q, const float* kp, const float* vp, i64 ldk, i64 kn, float scale, i64 group,
                                   float* S) {
  constexpr int GMAX = NV <= 4 ? 4 : (NV <= 8 ? 2 : 1);
  for (i64 g0 = 0; g0 < group; g0 += GMAX) {
    const i64 gc = std::min<i64>(GMAX, group - g0);
    float* og = o + g0 * NV * 16;
    const float* qg = q + g0 * NV * 16;
    if (gc >= 4 && GMAX >= 4) group_one<NV, (GMAX >= 4 ? 4 : 1)>(og, lse + g0, qg, kp, vp, ldk, kn, scale, S);
    else if (gc == 3 && GMAX >= 3) group_one<NV, (GMAX >= 3 ? 3 : 1)>(og, lse + g0, qg, kp, vp, ldk, kn, scale, S);
    else if (gc == 2 && GMAX >= 2) group_one<NV, (GMAX >= 2 ? 2 : 1)>(og, lse + g0, qg, kp, vp, ldk, kn, scale, S);
    else group_one<NV, 1>(og, lse + g0, qg, kp, vp, ldk, kn, scale, S);
  }
}
#endif

bool attention_one_query(float* out, float* lse, const float* q, const float* k, const float* v, i64 B, i64 Tk, i64 Tcap, i64 H, i64 KVH, i64 D,
                         float scale) {
#ifdef MM_X86_INTRIN
  const i64 NV = D / 16;
  if (current_isa() < ISA_AVX512 || D % 16 != 0 || !(NV == 1 || NV == 2 || NV == 4 || NV == 6 || NV == 8) || Tk < 1) return false;
  const i64 group = H / KVH, ldq = H * D, ldk = KVH * D;
  // KV groups over the threads from a few thousand keys x heads up: a decode step's cache rows come
  // from memory, so two threads fetch twice as fast (v1-small, 2 threads: 42 -> 14 us a layer)
  int nt = num_threads();
  if (B * KVH < 2 || (double)Tk * D * H * B < 2e4) nt = 1;
  parallel_tasks(B * KVH, nt, [&](i64 it) {
    const i64 b = it / KVH, kvh = it % KVH;
    float* S = scratch(2, (size_t)std::min<i64>(group, 4) * Tk);
    float* o = out + b * ldq + kvh * group * D;
    float* l = lse + b * H + kvh * group;
    const float* qp = q + b * ldq + kvh * group * D;
    const float* kp = k + b * Tcap * ldk + kvh * D;
    const float* vp = v + b * Tcap * ldk + kvh * D;
    switch (NV) {
      case 1: group_chunks<1>(o, l, qp, kp, vp, ldk, Tk, scale, group, S); break;
      case 2: group_chunks<2>(o, l, qp, kp, vp, ldk, Tk, scale, group, S); break;
      case 4: group_chunks<4>(o, l, qp, kp, vp, ldk, Tk, scale, group, S); break;
      case 6: group_chunks<6>(o, l, qp, kp, vp, ldk, Tk, scale, group, S); break;  // head_dim 96 (minimind-3, minimind2)
      default: group_chunks<8>(o, l, qp, kp, vp, ldk, Tk, scale, group, S); break;
    }
  });
  return true;
#else
  (void)out, (void)lse, (void)q, (void)k, (void)v, (void)B, (void)Tk, (void)Tcap, (void)H, (void)KVH, (void)D, (void)scale;
  return false;
#endif
}

}  // namespace mm
