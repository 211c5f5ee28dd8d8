// Row kernels (embedding, MoE gather / scatter, row scaling, top-k) and shape kernels (permute,
// slices, sums over an axis). Memory-bound: plain loops, threads over rows when there are many.
#include "kernels.h"
#include <stdexcept>
#include <string>

namespace mm {

void embedding_forward(float* out, const int32_t* ids, const float* weight, i64 N, i64 C) {
  parallel_range(N, 64, [&](i64 s, i64 e) {
    for (i64 i = s; i < e; i++) std::memcpy(out + i * C, weight + (i64)ids[i] * C, sizeof(float) * C);
  });
}

// Rows with the same id add into the same row of dweight, so threads split the columns instead.
void embedding_backward(float* dweight, const float* dout, const int32_t* ids, i64 N, i64 C) {
  parallel_range(C, N * C > (1 << 16) ? 16 : C, [&](i64 c0, i64 c1) {
    for (i64 i = 0; i < N; i++) {
      float* d = dweight + (i64)ids[i] * C;
      const float* g = dout + i * C;
      for (i64 c = c0; c < c1; c++) d[c] += g[c];
    }
  });
}

void row_scale_forward(float* out, const float* x, const float* w, i64 N, i64 C) {
  parallel_range(N, (1 << 14) / (C + 1) + 1, [&](i64 s, i64 e) {
    for (i64 i = s; i < e; i++) {
      float wi = w[i];
      for (i64 c = 0; c < C; c++) out[i * C + c] = x[i * C + c] * wi;
    }
  });
}

void row_scale_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, i64 N, i64 C, bool acc_dx, bool acc_dw) {
  parallel_range(N, (1 << 14) / (C + 1) + 1, [&](i64 s, i64 e) {
    for (i64 i = s; i < e; i++) {
      float wi = w[i], dot = 0.f;
      const float* g = dout + i * C;
      const float* xi = x + i * C;
      float* d = dx + i * C;
      with_grad_store(acc_dx, [&](auto put) MM_INLINE {
        for (i64 c = 0; c < C; c++) {
          put(d[c], g[c] * wi);
          dot += g[c] * xi[c];
        }
      });
      dw[i] = acc_dw ? dw[i] + dot : dot;
    }
  });
}

// k largest per row, descending; an equal value never displaces an earlier index.
void topk(float* values, int32_t* indices, const float* x, i64 N, i64 C, i64 k) {
  for (i64 r = 0; r < N; r++) {
    float* vals = values + r * k;
    int32_t* idx = indices + r * k;
    const float* row = x + r * C;
    i64 have = 0;
    for (i64 c = 0; c < C; c++) {
      float xv = row[c];
      if (have == k && !(xv > vals[k - 1])) continue;
      i64 p = have < k ? have : k - 1;
      while (p > 0 && xv > vals[p - 1]) {
        vals[p] = vals[p - 1];
        idx[p] = idx[p - 1];
        p--;
      }
      vals[p] = xv;
      idx[p] = (int32_t)c;
      if (have < k) have++;
    }
  }
}

void gather_forward(float* out, const float* x, const int32_t* idx, i64 N, i64 C, i64 k) {
  for (i64 i = 0; i < N; i++)
    for (i64 j = 0; j < k; j++) out[i * k + j] = x[i * C + idx[i * k + j]];
}

void gather_backward(float* dx, const float* dout, const int32_t* idx, i64 N, i64 C, i64 k) {
  for (i64 i = 0; i < N; i++)
    for (i64 j = 0; j < k; j++) dx[i * C + idx[i * k + j]] += dout[i * k + j];
}

// ---- shape kernels (4-byte elements: float32 or int32) ----
template <class T>
static void permute_t(T* out, const T* x, const i64* shape, const i64* perm, int rank, bool acc) {
  i64 in_stride[16], ostride_in[16], oshape[16];
  i64 s = 1;
  for (int d = rank - 1; d >= 0; d--) {
    in_stride[d] = s;
    s *= shape[d];
  }
  const i64 total = s;
  for (int d = 0; d < rank; d++) {
    oshape[d] = shape[perm[d]];
    ostride_in[d] = in_stride[perm[d]];
  }
  if (total == 0) return;
  if (rank == 0) {
    out[0] = acc ? out[0] + x[0] : x[0];
    return;
  }
  const i64 last = oshape[rank - 1], last_stride = ostride_in[rank - 1];
  const i64 rows = total / last;
  parallel_range(rows, 256, [&](i64 r0, i64 r1) {
    i64 idx[16];
    for (i64 r = r0; r < r1; r++) {
      // decompose the output row index into the leading output coordinates
      i64 rem = r, off = 0;
      for (int d = rank - 2; d >= 0; d--) {
        idx[d] = rem % oshape[d];
        rem /= oshape[d];
        off += idx[d] * ostride_in[d];
      }
      T* o = out + r * last;
      const T* src = x + off;
      if (acc)
        for (i64 j = 0; j < last; j++) o[j] += src[j * last_stride];
      else
        for (i64 j = 0; j < last; j++) o[j] = src[j * last_stride];
    }
  });
}

void permute(void* out, const void* x, const i64* shape, const i64* perm, int rank, bool accumulate, bool is_float) {
  if (rank > 16) throw std::invalid_argument("permute: rank above 16");
  if (is_float)
    permute_t((float*)out, (const float*)x, shape, perm, rank, accumulate);
  else
    permute_t((int32_t*)out, (const int32_t*)x, shape, perm, rank, accumulate);
}

template <class T>
static void copy_rows(T* dst, const T* src, i64 n, bool acc) {
  if (acc)
    for (i64 i = 0; i < n; i++) dst[i] += src[i];
  else
    std::memcpy(dst, src, sizeof(T) * n);
}

void slice_copy(void* out, const void* x, i64 outer, i64 dim_in, i64 inner, i64 start, i64 len, bool acc, bool is_float) {
  const i64 n = len * inner;
  parallel_range(outer, (1 << 15) / (n + 1) + 1, [&](i64 s, i64 e) {
    for (i64 o = s; o < e; o++) {
      if (is_float)
        copy_rows((float*)out + o * n, (const float*)x + (o * dim_in + start) * inner, n, acc);
      else
        copy_rows((int32_t*)out + o * n, (const int32_t*)x + (o * dim_in + start) * inner, n, acc);
    }
  });
}

void slice_scatter(void* out, const void* x, i64 outer, i64 dim_out, i64 inner, i64 start, i64 len, bool acc, bool is_float) {
  const i64 n = len * inner;
  parallel_range(outer, (1 << 15) / (n + 1) + 1, [&](i64 s, i64 e) {
    for (i64 o = s; o < e; o++) {
      if (is_float)
        copy_rows((float*)out + (o * dim_out + start) * inner, (const float*)x + o * n, n, acc);
      else
        copy_rows((int32_t*)out + (o * dim_out + start) * inner, (const int32_t*)x + o * n, n, acc);
    }
  });
}

void sum_axis(float* out, const float* x, i64 outer, i64 dim, i64 inner) {
  if (outer == 1 && inner > 0) {
    // e.g. bias gradients: split the columns, each thread sums every row of its columns
    parallel_range(inner, 4096 / (dim + 1) + 16, [&](i64 c0, i64 c1) {
      for (i64 c = c0; c < c1; c++) out[c] = 0.f;
      for (i64 d = 0; d < dim; d++)
        for (i64 c = c0; c < c1; c++) out[c] += x[d * inner + c];
    });
    return;
  }
  parallel_range(outer, 1, [&](i64 s, i64 e) {
    for (i64 o = s; o < e; o++) {
      float* dst = out + o * inner;
      for (i64 c = 0; c < inner; c++) dst[c] = 0.f;
      for (i64 d = 0; d < dim; d++) {
        const float* src = x + (o * dim + d) * inner;
        for (i64 c = 0; c < inner; c++) dst[c] += src[c];
      }
    }
  });
}

void sum_axis_backward(float* dx, const float* dout, i64 outer, i64 dim, i64 inner, bool acc) {
  parallel_range(outer * dim, (1 << 14) / (inner + 1) + 1, [&](i64 s, i64 e) {
    for (i64 r = s; r < e; r++) {
      const float* g = dout + (r / dim) * inner;
      float* d = dx + r * inner;
      if (acc) for (i64 c = 0; c < inner; c++) d[c] += g[c];
      else std::memcpy(d, g, (size_t)inner * sizeof(float));
    }
  });
}

}  // namespace mm
