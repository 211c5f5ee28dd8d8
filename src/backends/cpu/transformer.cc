// Fused transformer kernels over rows: RMSNorm, RoPE, softmax / log-softmax and the fused
// log-softmax + gather behind cross-entropy. Row bodies are MM_CLONES functions (vectorised per
// x86 level); rows are split over threads.
#include "kernels.h"
#include <vector>

namespace mm {

// ---------------------------------------------------------------- RMSNorm
MM_CLONES void rmsnorm_fwd_rows(float* out, float* rstd, const float* x, const float* w, i64 r0, i64 r1, i64 C, float eps) {
  for (i64 r = r0; r < r1; r++) {
    const float* xr = x + r * C;
    float* o = out + r * C;
    float ss = 0.f;
#pragma omp simd reduction(+ : ss)
    for (i64 c = 0; c < C; c++) ss += xr[c] * xr[c];
    float rs = 1.f / std::sqrt(ss / (float)C + eps);
    rstd[r] = rs;
    for (i64 c = 0; c < C; c++) o[c] = xr[c] * rs * w[c];
  }
}

// dx_c (+)= rstd * w_c * g_c - x_c * rstd^3 / C * sum_k(g_k w_k x_k);  dw_c += sum_rows g_c x_c rstd
MM_CLONES void rmsnorm_bwd_rows(float* dx, float* dw_part, const float* dout, const float* x, const float* w, const float* rstd, i64 r0,
                                i64 r1, i64 C, bool acc_dx) {
  for (i64 r = r0; r < r1; r++) {
    const float* xr = x + r * C;
    const float* g = dout + r * C;
    float* d = dx + r * C;
    const float rs = rstd[r];
    float dot = 0.f;
#pragma omp simd reduction(+ : dot)
    for (i64 c = 0; c < C; c++) dot += g[c] * w[c] * xr[c];
    const float k = dot * rs * rs * rs / (float)C;
    with_grad_store(acc_dx, [&](auto put) MM_INLINE {
      for (i64 c = 0; c < C; c++) {
        put(d[c], rs * w[c] * g[c] - xr[c] * k);
        dw_part[c] += g[c] * xr[c] * rs;
      }
    });
  }
}

void rmsnorm_forward(float* out, float* rstd, const float* x, const float* w, i64 N, i64 C, float eps) {
  parallel_range(N, (1 << 14) / (C + 1) + 1, [&](i64 s, i64 e) { rmsnorm_fwd_rows(out, rstd, x, w, s, e, C, eps); });
}

void rmsnorm_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, const float* rstd, i64 N, i64 C, bool acc_dx,
                      bool acc_dw) {
  // each chunk of rows sums its dw into a private row, then the partial rows are added in order
  const i64 grain = (1 << 14) / (C + 1) + 1;
  const i64 nt = std::max<i64>(1, std::min<i64>(num_threads(), N / grain));
  std::vector<float> parts((size_t)nt * C, 0.f);
  parallel_tasks(nt, (int)nt, [&](i64 t) {
    const i64 s = N * t / nt, e = N * (t + 1) / nt;
    rmsnorm_bwd_rows(dx, parts.data() + (size_t)t * C, dout, x, w, rstd, s, e, C, acc_dx);
  });
  for (i64 t = 0; t < nt; t++)
    for (i64 c = 0; c < C; c++) dw[c] = acc_dw || t > 0 ? dw[c] + parts[(size_t)t * C + c] : parts[(size_t)t * C + c];
}

// ---------------------------------------------------------------- RoPE
// x (B, T, H, D); position of row (b, t) is pos0 + t; cos/sin (maxPos, D/2).
// interleaved pairs (2i, 2i+1); rotate-half pairs (i, i + D/2). sign = +1 rotates, -1 un-rotates.
MM_CLONES void rope_rows(float* out, const float* x, const float* cosv, const float* sinv, i64 r0, i64 r1, i64 T, i64 H, i64 D, i64 pos0,
                         bool interleaved, float sign, bool acc) {
  const i64 half = D / 2;
  for (i64 r = r0; r < r1; r++) {  // r = (b * T + t)
    const i64 pos = pos0 + r % T;
    const float* cs = cosv + pos * half;
    const float* sn = sinv + pos * half;
    for (i64 h = 0; h < H; h++) {
      const float* xi = x + (r * H + h) * D;
      float* o = out + (r * H + h) * D;
      if (interleaved) {
        for (i64 i = 0; i < half; i++) {
          float a = xi[2 * i], b = xi[2 * i + 1], c = cs[i], s = sign * sn[i];
          float ya = a * c - b * s, yb = a * s + b * c;
          if (acc) { o[2 * i] += ya; o[2 * i + 1] += yb; }
          else { o[2 * i] = ya; o[2 * i + 1] = yb; }
        }
      } else {
        for (i64 i = 0; i < half; i++) {
          float a = xi[i], b = xi[i + half], c = cs[i], s = sign * sn[i];
          float ya = a * c - b * s, yb = b * c + a * s;
          if (acc) { o[i] += ya; o[i + half] += yb; }
          else { o[i] = ya; o[i + half] = yb; }
        }
      }
    }
  }
}

void rope_forward(float* out, const float* x, const float* cos, const float* sin, i64 B, i64 T, i64 H, i64 D, i64 pos0, bool interleaved) {
  parallel_range(B * T, (1 << 13) / (H * D + 1) + 1,
                 [&](i64 s, i64 e) { rope_rows(out, x, cos, sin, s, e, T, H, D, pos0, interleaved, 1.f, false); });
}
void rope_backward(float* dx, const float* dout, const float* cos, const float* sin, i64 B, i64 T, i64 H, i64 D, i64 pos0,
                   bool interleaved, bool acc) {
  parallel_range(B * T, (1 << 13) / (H * D + 1) + 1,
                 [&](i64 s, i64 e) { rope_rows(dx, dout, cos, sin, s, e, T, H, D, pos0, interleaved, -1.f, acc); });
}

// ---------------------------------------------------------------- softmax family
MM_CLONES float row_max(const float* x, i64 C) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (i64 c = 0; c < C; c++) m = std::max(m, x[c]);
  return m;
}
// out = exp(x - m), returns the sum
MM_CLONES float row_exp_sum(float* out, const float* x, float m, i64 C) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (i64 c = 0; c < C; c++) {
    float e = fast_exp(x[c] - m);
    out[c] = e;
    s += e;
  }
  return s;
}
MM_CLONES float row_exp_sum_only(const float* x, float m, i64 C) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (i64 c = 0; c < C; c++) s += fast_exp(x[c] - m);
  return s;
}
MM_CLONES float row_dot(const float* a, const float* b, i64 C) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (i64 c = 0; c < C; c++) s += a[c] * b[c];
  return s;
}
MM_CLONES float row_sum(const float* a, i64 C) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (i64 c = 0; c < C; c++) s += a[c];
  return s;
}
MM_CLONES void row_scale_inplace(float* a, float k, i64 C) {
  for (i64 c = 0; c < C; c++) a[c] *= k;
}

static i64 row_grain(i64 C) { return (1 << 14) / (C + 1) + 1; }

void softmax_forward(float* out, const float* x, i64 N, i64 C) {
  parallel_range(N, row_grain(C), [&](i64 s, i64 e) {
    for (i64 r = s; r < e; r++) {
      float m = row_max(x + r * C, C);
      float sum = row_exp_sum(out + r * C, x + r * C, m, C);
      row_scale_inplace(out + r * C, 1.f / sum, C);
    }
  });
}

MM_CLONES void softmax_bwd_row(float* dx, const float* g, const float* o, float dot, i64 C, bool acc) {
  with_grad_store(acc, [&](auto put) MM_INLINE {
    for (i64 c = 0; c < C; c++) put(dx[c], o[c] * (g[c] - dot));
  });
}
void softmax_backward(float* dx, const float* dout, const float* out, i64 N, i64 C, bool acc) {
  parallel_range(N, row_grain(C), [&](i64 s, i64 e) {
    for (i64 r = s; r < e; r++) {
      float dot = row_dot(dout + r * C, out + r * C, C);
      softmax_bwd_row(dx + r * C, dout + r * C, out + r * C, dot, C, acc);
    }
  });
}

MM_CLONES void sub_const(float* o, const float* x, float k, i64 C) {
  for (i64 c = 0; c < C; c++) o[c] = x[c] - k;
}
void log_softmax_forward(float* out, const float* x, i64 N, i64 C) {
  parallel_range(N, row_grain(C), [&](i64 s, i64 e) {
    for (i64 r = s; r < e; r++) {
      float m = row_max(x + r * C, C);
      float lse = m + std::log(row_exp_sum_only(x + r * C, m, C));
      sub_const(out + r * C, x + r * C, lse, C);
    }
  });
}

MM_CLONES void log_softmax_bwd_row(float* dx, const float* g, const float* o, float sum, i64 C, bool acc) {
  with_grad_store(acc, [&](auto put) MM_INLINE {
    for (i64 c = 0; c < C; c++) put(dx[c], g[c] - fast_exp(o[c]) * sum);
  });
}
void log_softmax_backward(float* dx, const float* dout, const float* out, i64 N, i64 C, bool acc) {
  parallel_range(N, row_grain(C), [&](i64 s, i64 e) {
    for (i64 r = s; r < e; r++) log_softmax_bwd_row(dx + r * C, dout + r * C, out + r * C, row_sum(dout + r * C, C), C, acc);
  });
}

// ---------------------------------------------------------------- fused log-softmax + gather
void logprob_gather_forward(float* out, float* lse, const float* logits, const int32_t* targets, i64 N, i64 V, int32_t ignore_index) {
  parallel_range(N, row_grain(V), [&](i64 s, i64 e) {
    for (i64 r = s; r < e; r++) {
      const float* x = logits + r * V;
      float m = row_max(x, V);
      float l = m + std::log(row_exp_sum_only(x, m, V));
      lse[r] = l;
      int32_t t = targets[r];
      out[r] = t == ignore_index ? 0.f : x[t] - l;
    }
  });
}

// dlogits[r, :] (+)= dout[r] * (onehot(t) - exp(logits[r, :] - lse[r])); an ignored row: 0 (+= nothing)
MM_CLONES void logprob_bwd_row(float* d, const float* x, float l, float g, i64 V, bool acc) {
  with_grad_store(acc, [&](auto put) MM_INLINE {
    for (i64 c = 0; c < V; c++) put(d[c], -g * fast_exp(x[c] - l));
  });
}
void logprob_gather_backward(float* dlogits, const float* dout, const float* logits, const float* lse, const int32_t* targets, i64 N, i64 V,
                             int32_t ignore_index, bool acc) {
  parallel_range(N, row_grain(V), [&](i64 s, i64 e) {
    for (i64 r = s; r < e; r++) {
      int32_t t = targets[r];
      if (t == ignore_index) {
        if (!acc) std::fill(dlogits + r * V, dlogits + (r + 1) * V, 0.f);
        continue;
      }
      float g = dout[r];
      logprob_bwd_row(dlogits + r * V, logits + r * V, lse[r], g, V, acc);
      dlogits[r * V + t] += g;
    }
  });
}

}  // namespace mm
