// Elementwise kernels, SwiGLU and AdamW: each is a range function compiled once per x86 level
// (MM_CLONES, auto-vectorised) and split over threads in contiguous chunks when n is large.
#include "kernels.h"

namespace mm {

static const i64 GRAIN = 1 << 15;  // elements per thread below which one thread does it all

MM_CLONES void add_range(float* o, const float* a, const float* b, i64 n) {
  for (i64 i = 0; i < n; i++) o[i] = a[i] + b[i];
}
MM_CLONES void mul_range(float* o, const float* a, const float* b, i64 n) {
  for (i64 i = 0; i < n; i++) o[i] = a[i] * b[i];
}
MM_CLONES void affine_range(float* o, const float* x, float al, float be, i64 n) {
  for (i64 i = 0; i < n; i++) o[i] = al * x[i] + be;
}
MM_CLONES void axpy_range(float* o, const float* x, float al, i64 n) {
  for (i64 i = 0; i < n; i++) o[i] += al * x[i];
}
MM_CLONES double sumsq_range(const float* x, i64 n) {
  // 8 independent float partial sums per block of 1024, folded into double: fast and accurate.
  double total = 0;
  for (i64 b = 0; b < n; b += 1024) {
    i64 e = std::min<i64>(n, b + 1024);
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (i64 i = b; i < e; i++) s += x[i] * x[i];
    total += s;
  }
  return total;
}

void add(float* out, const float* a, const float* b, i64 n) {
  parallel_range(n, GRAIN, [&](i64 s, i64 e) { add_range(out + s, a + s, b + s, e - s); });
}
void mul(float* out, const float* a, const float* b, i64 n) {
  parallel_range(n, GRAIN, [&](i64 s, i64 e) { mul_range(out + s, a + s, b + s, e - s); });
}
void affine(float* out, const float* x, float alpha, float beta, i64 n) {
  parallel_range(n, GRAIN, [&](i64 s, i64 e) { affine_range(out + s, x + s, alpha, beta, e - s); });
}
void axpy(float* out, const float* x, float alpha, i64 n) {
  parallel_range(n, GRAIN, [&](i64 s, i64 e) { axpy_range(out + s, x + s, alpha, e - s); });
}
double sum_squares(const float* x, i64 n) { return sumsq_range(x, n); }

// ---- unary ops ----
static inline float sigmoidf_(float x) { return 1.f / (1.f + fast_exp(-x)); }

MM_CLONES void unary_fwd_range(int op, float* o, const float* x, i64 n) {
  switch (op) {
    case U_EXP:
      for (i64 i = 0; i < n; i++) o[i] = fast_exp(x[i]);
      break;
    case U_LOG:
      for (i64 i = 0; i < n; i++) o[i] = std::log(x[i]);
      break;
    case U_SILU:
      for (i64 i = 0; i < n; i++) o[i] = x[i] / (1.f + fast_exp(-x[i]));
      break;
    case U_SIGMOID:
      for (i64 i = 0; i < n; i++) o[i] = sigmoidf_(x[i]);
      break;
    case U_LOGSIGMOID:
      // log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))
      for (i64 i = 0; i < n; i++) o[i] = std::min(x[i], 0.f) - std::log1p(std::exp(-std::fabs(x[i])));
      break;
  }
}
MM_CLONES void unary_bwd_range(int op, float* dx, const float* g, const float* x, const float* o, i64 n, bool acc) {
  with_grad_store(acc, [&](auto put) MM_INLINE {
    switch (op) {
      case U_EXP:
        for (i64 i = 0; i < n; i++) put(dx[i], g[i] * o[i]);
        break;
      case U_LOG:
        for (i64 i = 0; i < n; i++) put(dx[i], g[i] / x[i]);
        break;
      case U_SILU:
        for (i64 i = 0; i < n; i++) {
          float s = sigmoidf_(x[i]);
          put(dx[i], g[i] * s * (1.f + x[i] * (1.f - s)));
        }
        break;
      case U_SIGMOID:
        for (i64 i = 0; i < n; i++) put(dx[i], g[i] * o[i] * (1.f - o[i]));
        break;
      case U_LOGSIGMOID:
        for (i64 i = 0; i < n; i++) put(dx[i], g[i] * sigmoidf_(-x[i]));
        break;
    }
  });
}
void unary_forward(int op, float* out, const float* x, i64 n) {
  parallel_range(n, GRAIN / 4, [&](i64 s, i64 e) { unary_fwd_range(op, out + s, x + s, e - s); });
}
void unary_backward(int op, float* dx, const float* dout, const float* x, const float* out, i64 n, bool acc) {
  parallel_range(n, GRAIN / 4, [&](i64 s, i64 e) { unary_bwd_range(op, dx + s, dout + s, x + s, out + s, e - s, acc); });
}

// ---- SwiGLU: out = silu(gate) * up ----
MM_CLONES void swiglu_fwd_range(float* o, const float* g, const float* u, i64 n) {
  for (i64 i = 0; i < n; i++) o[i] = g[i] / (1.f + fast_exp(-g[i])) * u[i];
}
MM_CLONES void swiglu_bwd_range(float* dg, float* du, const float* d, const float* g, const float* u, i64 n, bool acc_g, bool acc_u) {
  with_grad_store(acc_g, acc_u, [&](auto put_g, auto put_u) MM_INLINE {
    for (i64 i = 0; i < n; i++) {
      float s = 1.f / (1.f + fast_exp(-g[i]));
      float silu = g[i] * s;
      put_u(du[i], d[i] * silu);
      put_g(dg[i], d[i] * u[i] * s * (1.f + g[i] * (1.f - s)));
    }
  });
}
void swiglu_forward(float* out, const float* gate, const float* up, i64 n) {
  parallel_range(n, GRAIN / 4, [&](i64 s, i64 e) { swiglu_fwd_range(out + s, gate + s, up + s, e - s); });
}
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, i64 n, bool acc_gate, bool acc_up) {
  parallel_range(n, GRAIN / 4, [&](i64 s, i64 e) { swiglu_bwd_range(dgate + s, dup + s, dout + s, gate + s, up + s, e - s, acc_gate, acc_up); });
}

// ---- AdamW, PyTorch semantics: decoupled decay, then bias-corrected Adam update ----
MM_CLONES void adamw_range(float* p, const float* g, float* m, float* v, i64 n, float lr, float b1, float b2, float eps, float decay,
                           float step_size, float inv_sqrt_bc2) {
  for (i64 i = 0; i < n; i++) {
    float pi = p[i] * decay;
    float mi = b1 * m[i] + (1.f - b1) * g[i];
    float vi = b2 * v[i] + (1.f - b2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
  (void)lr;
}
void adamw_step(float* param, const float* grad, float* m, float* v, i64 n, float lr, float beta1, float beta2, float eps,
                float weight_decay, double step) {
  double bc1 = 1.0 - std::pow((double)beta1, step), bc2 = 1.0 - std::pow((double)beta2, step);
  float step_size = (float)(lr / bc1), inv_sqrt_bc2 = (float)(1.0 / std::sqrt(bc2));
  float decay = 1.f - lr * weight_decay;
  parallel_range(n, GRAIN / 2, [&](i64 s, i64 e) {
    adamw_range(param + s, grad + s, m + s, v + s, e - s, lr, beta1, beta2, eps, decay, step_size, inv_sqrt_bc2);
  });
}

}  // namespace mm
