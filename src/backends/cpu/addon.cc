// N-API glue of the native CPU backend: unpacks JS arguments (typed arrays are used in place,
// zero-copy), checks every buffer is large enough for the sizes given (a wrong size throws a
// RangeError instead of corrupting memory), and calls the kernel. Argument order is exactly the
// Backend interface's (src/backends/backend.ts).
#include <node_api.h>
#ifndef _WIN32
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif
#include <stdexcept>
#include <string>
#include <vector>
#include "gemm.h"
#include "gemv.h"
#include "kernels.h"
#include "attention_decode.h"
#include "decode.h"

namespace {

using namespace mm;

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  napi_env env;
  napi_value argv[24];
  size_t argc = 24;
  const char* fn;
  Args(napi_env e, napi_callback_info info, const char* name) : env(e), fn(name) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }
  [[noreturn]] void fail(int i, const std::string& what) const {
    throw ArgError(std::string(fn) + ": argument " + std::to_string(i) + " " + what);
  }
  napi_value at(int i) const {
    if ((size_t)i >= argc) fail(i, "is missing");
    return argv[i];
  }
  void* typed(int i, napi_typedarray_type want, bool any4, bool* is_float, double need) const {
    bool is_ta = false;
    napi_is_typedarray(env, at(i), &is_ta);
    if (!is_ta) fail(i, "must be a Float32Array" + std::string(any4 ? " or Int32Array" : want == napi_int32_array ? " (Int32Array)" : ""));
    napi_typedarray_type t;
    size_t len;
    void* data;
    napi_get_typedarray_info(env, argv[i], &t, &len, &data, nullptr, nullptr);
    if (any4) {
      if (t != napi_float32_array && t != napi_int32_array) fail(i, "must be a Float32Array or Int32Array (the native backend is float32 only)");
      *is_float = t == napi_float32_array;
    } else if (t != want) {
      fail(i, want == napi_float32_array ? "must be a Float32Array (the native backend is float32 only)" : "must be an Int32Array");
    }
    if (need > (double)len) fail(i, "has " + std::to_string(len) + " elements, needs " + std::to_string((long long)need));
    return data;
  }
  // A typed array of exactly type `want` (the packed weight formats), with at least `need` elements.
  void* raw(int i, napi_typedarray_type want, const char* what, double need) const {
    bool is_ta = false;
    napi_is_typedarray(env, at(i), &is_ta);
    napi_typedarray_type t;
    size_t len;
    void* data;
    if (is_ta) napi_get_typedarray_info(env, argv[i], &t, &len, &data, nullptr, nullptr);
    if (!is_ta || t != want) fail(i, std::string("must be a ") + what);
    if (need > (double)len) fail(i, "has " + std::to_string(len) + " elements, needs " + std::to_string((long long)need));
    return data;
  }
  float* f32(int i, double need) const { return (float*)typed(i, napi_float32_array, false, nullptr, need); }
  int32_t* i32(int i, double need) const { return (int32_t*)typed(i, napi_int32_array, false, nullptr, need); }
  void* any(int i, double need, bool* is_float) const { return typed(i, napi_float32_array, true, is_float, need); }
  double num(int i) const {
    double d;
    if (napi_get_value_double(env, at(i), &d) != napi_ok) fail(i, "must be a number");
    return d;
  }
  i64 size(int i) const {
    double d = num(i);
    if (!(d >= 0) || d != (double)(i64)d) fail(i, "must be a non-negative integer, got " + std::to_string(d));
    return (i64)d;
  }
  bool flag(int i) const {
    bool b;
    if (napi_get_value_bool(env, at(i), &b) != napi_ok) fail(i, "must be a boolean");
    return b;
  }
  napi_value undefined() const {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
  napi_value number(double d) const {
    napi_value r;
    napi_create_double(env, d, &r);
    return r;
  }
};

template <class F>
napi_value guarded(napi_env env, napi_callback_info info, const char* name, F body) {
  try {
    Args a(env, info, name);
    return body(a);
  } catch (const ArgError& e) {
    napi_throw_range_error(env, nullptr, e.what());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string(name) + ": " + e.what()).c_str());
  }
  return nullptr;
}

#define DEF(NAME) static napi_value js_##NAME(napi_env env, napi_callback_info info) { return guarded(env, info, #NAME, [&](Args& a) -> napi_value {
#define END \
  });       \
  }

// ---- runtime ----
DEF(setThreads) set_num_threads((int)a.size(0)); return a.undefined(); END
DEF(getThreads) return a.number(num_threads()); END
DEF(setIsa)
  size_t len;
  char buf[32];
  napi_get_value_string_utf8(a.env, a.at(0), buf, sizeof buf, &len);
  std::string s(buf, len);
  Isa want = s == "amx" ? ISA_AMX : s == "avx512bf16" ? ISA_AVX512BF16 : s == "avx512" ? ISA_AVX512 : s == "avx2" ? ISA_AVX2
           : s == "generic" ? ISA_GENERIC : best_isa();
  set_isa(want);
  napi_value r;
  napi_create_string_utf8(a.env, isa_name(current_isa()), NAPI_AUTO_LENGTH, &r);
  return r;
END
DEF(getIsa)
  napi_value r;
  napi_create_string_utf8(a.env, isa_name(current_isa()), NAPI_AUTO_LENGTH, &r);
  return r;
END
// ---- memory ----
// fillValue(out, value, n): out[0:n] = value (float32 or int32), memset-speed with threads for big n
DEF(fillValue)
  i64 n = a.size(2);
  bool is_float;
  void* out = a.any(0, n, &is_float);
  double v = a.num(1);
  parallel_range(n, 1 << 18, [&](i64 s, i64 e) {
    if (v == 0.0) {
      std::memset((char*)out + s * 4, 0, (size_t)(e - s) * 4);
    } else if (is_float) {
      float f = (float)v;
      std::fill((float*)out + s, (float*)out + e, f);
    } else {
      int32_t q = (int32_t)v;
      std::fill((int32_t*)out + s, (int32_t*)out + e, q);
    }
  });
  return a.undefined();
END

// ---- elementwise ----
DEF(add) i64 n = a.size(3); add(a.f32(0, n), a.f32(1, n), a.f32(2, n), n); return a.undefined(); END
DEF(mul) i64 n = a.size(3); mul(a.f32(0, n), a.f32(1, n), a.f32(2, n), n); return a.undefined(); END
DEF(affine) i64 n = a.size(4); affine(a.f32(0, n), a.f32(1, n), (float)a.num(2), (float)a.num(3), n); return a.undefined(); END
DEF(axpy) i64 n = a.size(3); axpy(a.f32(0, n), a.f32(1, n), (float)a.num(2), n); return a.undefined(); END
DEF(sumSquares) i64 n = a.size(1); return a.number(sum_squares(a.f32(0, n), n)); END
// op ids as src/backends/cpu/index.ts UNARY: exp, log, silu, sigmoid, logsigmoid
static int unary_op(const Args& a) {
  i64 op = a.size(0);
  if (op > 4) a.fail(0, "is not a unary op id (0-4), got " + std::to_string(op));
  return (int)op;
}
DEF(unaryForward) int op = unary_op(a); i64 n = a.size(3); unary_forward(op, a.f32(1, n), a.f32(2, n), n); return a.undefined(); END
DEF(unaryBackward)
  int op = unary_op(a);
  i64 n = a.size(5);
  unary_backward(op, a.f32(1, n), a.f32(2, n), a.f32(3, n), a.f32(4, n), n, a.flag(6));
  return a.undefined();
END

// ---- GEMM ----
DEF(setMatmulPrecision)
  size_t len;
  char buf[16];
  napi_get_value_string_utf8(a.env, a.at(0), buf, sizeof buf, &len);
  std::string s(buf, len);
  if (s != "fp32" && s != "bf16") a.fail(0, "must be 'fp32' or 'bf16'");
  set_matmul_bf16(s == "bf16");  // in effect only while the ISA level has a bf16 GEMM (matmul_bf16())
  napi_value r;
  napi_create_string_utf8(a.env, matmul_bf16() ? "bf16" : "fp32", NAPI_AUTO_LENGTH, &r);
  return r;
END
DEF(getMatmulPrecision)
  napi_value r;
  napi_create_string_utf8(a.env, matmul_bf16() ? "bf16" : "fp32", NAPI_AUTO_LENGTH, &r);
  return r;
END
DEF(matmul)
  i64 M = a.size(3), N = a.size(4), K = a.size(5);
  bool ta = a.flag(6), tb = a.flag(7), acc = a.flag(8);
  float* out = a.f32(0, (double)M * N);
  const float* A = a.f32(1, (double)M * K);
  const float* B = a.f32(2, (double)K * N);
  if (matmul_bf16())
    sgemm_bf16(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, out, N, acc, num_threads());
  else
    sgemm(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, out, N, acc, num_threads());
  return a.undefined();
END

// matmulPacked(out, x, w, scales, M, N, K, format, accumulate): out (M, N) (+)= x (M, K) W^T with W
// (N, K) packed: format 'bf16' (w Uint16Array, scales unused) or 'q8' (w Uint8Array: codes + 128,
// scales Uint16Array: N * K / 32 fp16, K a multiple of 32).
DEF(matmulPacked)
  i64 M = a.size(4), N = a.size(5), K = a.size(6);
  size_t len;
  char buf[16];
  napi_get_value_string_utf8(a.env, a.at(7), buf, sizeof buf, &len);
  std::string fmt(buf, len);
  bool acc = a.flag(8);
  float* out = a.f32(0, (double)M * N);
  const float* X = a.f32(1, (double)M * K);
  if (fmt == "bf16") {
    gemv_bf16(out, X, (const uint16_t*)a.raw(2, napi_uint16_array, "Uint16Array (bf16 weights)", (double)N * K), M, N, K, acc, num_threads());
  } else if (fmt == "q8") {
    if (K % 32 != 0) a.fail(6, "must be a multiple of 32 for q8 weights, got " + std::to_string(K));
    const uint8_t* q = (const uint8_t*)a.raw(2, napi_uint8_array, "Uint8Array (q8 codes + 128)", (double)N * K);
    gemv_q8(out, X, q, (const uint16_t*)a.raw(3, napi_uint16_array, "Uint16Array (q8 fp16 scales)", (double)N * (K / 32)), M, N, K, acc, num_threads());
  } else {
    a.fail(7, "must be 'bf16' or 'q8'");
  }
  return a.undefined();
END

// ---- rows ----
static void check_ids(const Args& a, int i, const int32_t* ids, i64 n, i64 limit) {
  for (i64 j = 0; j < n; j++)
    if (ids[j] < 0 || ids[j] >= limit)
      a.fail(i, "holds index " + std::to_string(ids[j]) + " at position " + std::to_string(j) + ", outside [0, " + std::to_string(limit) + ")");
}
DEF(embeddingForward)
  i64 N = a.size(3), C = a.size(4);
  const int32_t* ids = a.i32(1, N);
  bool f;
  napi_typedarray_type t;
  size_t wlen;
  void* wd;
  a.f32(2, 0);
  napi_get_typedarray_info(a.env, a.argv[2], &t, &wlen, &wd, nullptr, nullptr);
  (void)f;
  check_ids(a, 1, ids, N, C > 0 ? (i64)wlen / C : 0);
  embedding_forward(a.f32(0, (double)N * C), ids, (const float*)wd, N, C);
  return a.undefined();
END
DEF(embeddingBackward)
  i64 N = a.size(3), C = a.size(4);
  const int32_t* ids = a.i32(2, N);
  a.f32(0, 0);
  napi_typedarray_type t;
  size_t wlen;
  void* wd;
  napi_get_typedarray_info(a.env, a.argv[0], &t, &wlen, &wd, nullptr, nullptr);
  check_ids(a, 2, ids, N, C > 0 ? (i64)wlen / C : 0);
  embedding_backward((float*)wd, a.f32(1, (double)N * C), ids, N, C);
  return a.undefined();
END
DEF(rowScaleForward)
  i64 N = a.size(3), C = a.size(4);
  row_scale_forward(a.f32(0, (double)N * C), a.f32(1, (double)N * C), a.f32(2, N), N, C);
  return a.undefined();
END
DEF(rowScaleBackward)
  i64 N = a.size(5), C = a.size(6);
  row_scale_backward(a.f32(0, (double)N * C), a.f32(1, N), a.f32(2, (double)N * C), a.f32(3, (double)N * C), a.f32(4, N), N, C, a.flag(7), a.flag(8));
  return a.undefined();
END
DEF(topk)
  i64 N = a.size(3), C = a.size(4), k = a.size(5);
  if (k > C) a.fail(5, "k = " + std::to_string(k) + " exceeds the row length " + std::to_string(C));
  topk(a.f32(0, (double)N * k), a.i32(1, (double)N * k), a.f32(2, (double)N * C), N, C, k);
  return a.undefined();
END
DEF(gatherForward)
  i64 N = a.size(3), C = a.size(4), k = a.size(5);
  const int32_t* idx = a.i32(2, (double)N * k);
  check_ids(a, 2, idx, N * k, C);
  gather_forward(a.f32(0, (double)N * k), a.f32(1, (double)N * C), idx, N, C, k);
  return a.undefined();
END
DEF(gatherBackward)
  i64 N = a.size(3), C = a.size(4), k = a.size(5);
  const int32_t* idx = a.i32(2, (double)N * k);
  check_ids(a, 2, idx, N * k, C);
  gather_backward(a.f32(0, (double)N * C), a.f32(1, (double)N * k), idx, N, C, k);
  return a.undefined();
END

// ---- shape ----
// permute(out, x, shape: number[], perm: number[], accumulate)
DEF(permute)
  i64 shape[16], perm[16];
  uint32_t rank = 0, rank2 = 0;
  napi_get_array_length(a.env, a.at(2), &rank);
  napi_get_array_length(a.env, a.at(3), &rank2);
  if (rank != rank2 || rank > 16) a.fail(3, "must have the same length as shape (at most 16)");
  double total = 1;
  bool seen[16] = {false};
  for (uint32_t d = 0; d < rank; d++) {
    napi_value e;
    double sv = -1, pv = -1;
    if (napi_get_element(a.env, a.argv[2], d, &e) != napi_ok || napi_get_value_double(a.env, e, &sv) != napi_ok) a.fail(2, "must be an array of numbers");
    if (napi_get_element(a.env, a.argv[3], d, &e) != napi_ok || napi_get_value_double(a.env, e, &pv) != napi_ok) a.fail(3, "must be an array of numbers");
    if (!(sv >= 0) || sv != (double)(i64)sv) a.fail(2, "holds a size that is not a non-negative integer");
    if (!(pv >= 0 && pv < rank) || pv != (double)(i64)pv) a.fail(3, "holds an axis outside the rank");
    // a repeated axis would walk one input axis twice and read past the end of x
    if (seen[(int)pv]) a.fail(3, "is not a permutation (axis " + std::to_string((int)pv) + " appears twice)");
    seen[(int)pv] = true;
    shape[d] = (i64)sv;
    perm[d] = (i64)pv;
    total *= sv;
  }
  bool f0, f1;
  void* out = a.any(0, total, &f0);
  const void* x = a.any(1, total, &f1);
  if (f0 != f1) a.fail(1, "must have the same element type as the output");
  permute(out, x, shape, perm, (int)rank, a.flag(4), f0);
  return a.undefined();
END
DEF(sliceCopy)
  i64 outer = a.size(2), dim = a.size(3), inner = a.size(4), start = a.size(5), len = a.size(6);
  if (start + len > dim) a.fail(5, "start + len exceeds the axis length");
  bool f0, f1;
  void* out = a.any(0, (double)outer * len * inner, &f0);
  const void* x = a.any(1, (double)outer * dim * inner, &f1);
  if (f0 != f1) a.fail(1, "must have the same element type as the output");
  slice_copy(out, x, outer, dim, inner, start, len, a.flag(7), f0);
  return a.undefined();
END
DEF(sliceScatter)
  i64 outer = a.size(2), dim = a.size(3), inner = a.size(4), start = a.size(5), len = a.size(6);
  if (start + len > dim) a.fail(5, "start + len exceeds the axis length");
  bool f0, f1;
  void* out = a.any(0, (double)outer * dim * inner, &f0);
  const void* x = a.any(1, (double)outer * len * inner, &f1);
  if (f0 != f1) a.fail(1, "must have the same element type as the output");
  slice_scatter(out, x, outer, dim, inner, start, len, a.flag(7), f0);
  return a.undefined();
END
DEF(sumAxis)
  i64 outer = a.size(2), dim = a.size(3), inner = a.size(4);
  sum_axis(a.f32(0, (double)outer * inner), a.f32(1, (double)outer * dim * inner), outer, dim, inner);
  return a.undefined();
END
DEF(sumAxisBackward)
  i64 outer = a.size(2), dim = a.size(3), inner = a.size(4);
  sum_axis_backward(a.f32(0, (double)outer * dim * inner), a.f32(1, (double)outer * inner), outer, dim, inner, a.flag(5));
  return a.undefined();
END

// ---- transformer ----
DEF(rmsnormForward)
  i64 N = a.size(4), C = a.size(5);
  rmsnorm_forward(a.f32(0, (double)N * C), a.f32(1, N), a.f32(2, (double)N * C), a.f32(3, C), N, C, (float)a.num(6));
  return a.undefined();
END
DEF(rmsnormBackward)
  i64 N = a.size(6), C = a.size(7);
  double nc = (double)N * C;
  rmsnorm_backward(a.f32(0, nc), a.f32(1, C), a.f32(2, nc), a.f32(3, nc), a.f32(4, C), a.f32(5, N), N, C, a.flag(8), a.flag(9));
  return a.undefined();
END
static void rope_checks(Args& a, int first, i64* B, i64* T, i64* H, i64* D, i64* pos0, bool* inter) {
  *B = a.size(first), *T = a.size(first + 1), *H = a.size(first + 2), *D = a.size(first + 3), *pos0 = a.size(first + 4);
  *inter = a.flag(first + 5);
  if (*D % 2) a.fail(first + 3, "(head dim) must be even");
}
DEF(ropeForward)
  i64 B, T, H, D, pos0;
  bool inter;
  rope_checks(a, 4, &B, &T, &H, &D, &pos0, &inter);
  double n = (double)B * T * H * D, tab = (double)(pos0 + T) * (D / 2);
  rope_forward(a.f32(0, n), a.f32(1, n), a.f32(2, tab), a.f32(3, tab), B, T, H, D, pos0, inter);
  return a.undefined();
END
DEF(ropeBackward)
  i64 B, T, H, D, pos0;
  bool inter;
  rope_checks(a, 4, &B, &T, &H, &D, &pos0, &inter);
  double n = (double)B * T * H * D, tab = (double)(pos0 + T) * (D / 2);
  rope_backward(a.f32(0, n), a.f32(1, n), a.f32(2, tab), a.f32(3, tab), B, T, H, D, pos0, inter, a.flag(10));
  return a.undefined();
END
static void attn_sizes(Args& a, int first, i64* s) {
  for (int i = 0; i < 7; i++) s[i] = a.size(first + i);  // B Tq Tk Tcap H KVH D
  if (s[2] < s[1]) a.fail(first + 2, "Tk must be >= Tq");
  if (s[3] < s[2]) a.fail(first + 3, "Tcap must be >= Tk");
  if (s[5] == 0 || s[4] % s[5]) a.fail(first + 5, "KVH must divide H");
}
DEF(attentionForward)
  i64 s[7];
  attn_sizes(a, 5, s);
  i64 B = s[0], Tq = s[1], Tk = s[2], Tcap = s[3], H = s[4], KVH = s[5], D = s[6];
  double nq = (double)B * Tq * H * D, nk = (double)B * Tcap * KVH * D;
  attention_forward(a.f32(0, nq), a.f32(1, (double)B * H * Tq), a.f32(2, nq), a.f32(3, nk), a.f32(4, nk), B, Tq, Tk, Tcap, H, KVH, D,
                    (float)a.num(12));
  return a.undefined();
END
// e as a typed array: its type, length and data; false when e is not one (the outputs then unset).
static bool typed_info(napi_env env, napi_value e, napi_typedarray_type* t, size_t* len, void** data) {
  bool is_ta = false;
  napi_is_typedarray(env, e, &is_ta);
  if (is_ta) napi_get_typedarray_info(env, e, t, len, data, nullptr, nullptr);
  return is_ta;
}
// kc / vc: JS arrays of S Float32Arrays (each sequence's cache of one layer, capacity x KVH x D).
static void cache_list(Args& a, int i, i64 S, i64 inner, const int32_t* pos, std::vector<float*>& out) {
  bool is_array = false;
  napi_is_array(a.env, a.at(i), &is_array);
  uint32_t n = 0;
  if (is_array) napi_get_array_length(a.env, a.argv[i], &n);
  if (!is_array || (i64)n != S) a.fail(i, "must be an array of " + std::to_string(S) + " Float32Arrays (one cache per sequence)");
  out.resize(S);
  for (uint32_t s = 0; s < n; s++) {
    napi_value e;
    napi_get_element(a.env, a.argv[i], s, &e);
    napi_typedarray_type t;
    size_t len;
    void* data;
    if (!typed_info(a.env, e, &t, &len, &data) || t != napi_float32_array) a.fail(i, "element " + std::to_string(s) + " must be a Float32Array");
    if (pos[s] < 0 || (double)len < (double)(pos[s] + 1) * inner) a.fail(i, "element " + std::to_string(s) + " has " + std::to_string(len) + " elements, too few for position " + std::to_string(pos[s]));
    out[s] = (float*)data;
  }
}
DEF(attentionDecode)
  const i64 S = a.size(7), H = a.size(8), KVH = a.size(9), D = a.size(10);
  if (KVH == 0 || H % KVH) a.fail(9, "KVH must divide H");
  const double nq = (double)S * H * D, nk = (double)S * KVH * D;
  const int32_t* pos = a.i32(6, (double)S);
  std::vector<float*> kc, vc;
  cache_list(a, 4, S, KVH * D, pos, kc);
  cache_list(a, 5, S, KVH * D, pos, vc);
  attention_decode(a.f32(0, nq), a.f32(1, nq), a.f32(2, nk), a.f32(3, nk), kc.data(), vc.data(), pos, S, H, KVH, D, (float)a.num(11));
  return a.undefined();
END
DEF(attentionBackward)
  i64 s[7];
  attn_sizes(a, 9, s);
  i64 B = s[0], Tq = s[1], Tk = s[2], Tcap = s[3], H = s[4], KVH = s[5], D = s[6];
  double nq = (double)B * Tq * H * D, nk = (double)B * Tcap * KVH * D;
  attention_backward(a.f32(0, nq), a.f32(1, nk), a.f32(2, nk), a.f32(3, nq), a.f32(4, nq), a.f32(5, nk), a.f32(6, nk), a.f32(7, nq),
                     a.f32(8, (double)B * H * Tq), B, Tq, Tk, Tcap, H, KVH, D, (float)a.num(16));
  return a.undefined();
END
DEF(swigluForward) i64 n = a.size(3); swiglu_forward(a.f32(0, n), a.f32(1, n), a.f32(2, n), n); return a.undefined(); END
DEF(swigluBackward)
  i64 n = a.size(5);
  swiglu_backward(a.f32(0, n), a.f32(1, n), a.f32(2, n), a.f32(3, n), a.f32(4, n), n, a.flag(6), a.flag(7));
  return a.undefined();
END
DEF(softmaxForward) i64 N = a.size(2), C = a.size(3); softmax_forward(a.f32(0, (double)N * C), a.f32(1, (double)N * C), N, C); return a.undefined(); END
DEF(softmaxBackward)
  i64 N = a.size(3), C = a.size(4);
  double n = (double)N * C;
  softmax_backward(a.f32(0, n), a.f32(1, n), a.f32(2, n), N, C, a.flag(5));
  return a.undefined();
END
DEF(logSoftmaxForward) i64 N = a.size(2), C = a.size(3); log_softmax_forward(a.f32(0, (double)N * C), a.f32(1, (double)N * C), N, C); return a.undefined(); END
DEF(logSoftmaxBackward)
  i64 N = a.size(3), C = a.size(4);
  double n = (double)N * C;
  log_softmax_backward(a.f32(0, n), a.f32(1, n), a.f32(2, n), N, C, a.flag(5));
  return a.undefined();
END
static void check_targets(const Args& a, int i, const int32_t* t, i64 N, i64 V, int32_t ignore) {
  for (i64 j = 0; j < N; j++)
    if (t[j] != ignore && (t[j] < 0 || t[j] >= V))
      a.fail(i, "holds target " + std::to_string(t[j]) + " at row " + std::to_string(j) + ", outside [0, " + std::to_string(V) + ")");
}
DEF(logprobGatherForward)
  i64 N = a.size(4), V = a.size(5);
  int32_t ignore = (int32_t)a.num(6);
  const int32_t* t = a.i32(3, N);
  check_targets(a, 3, t, N, V, ignore);
  logprob_gather_forward(a.f32(0, N), a.f32(1, N), a.f32(2, (double)N * V), t, N, V, ignore);
  return a.undefined();
END
DEF(logprobGatherBackward)
  i64 N = a.size(5), V = a.size(6);
  int32_t ignore = (int32_t)a.num(7);
  const int32_t* t = a.i32(4, N);
  check_targets(a, 4, t, N, V, ignore);
  logprob_gather_backward(a.f32(0, (double)N * V), a.f32(1, N), a.f32(2, (double)N * V), a.f32(3, N), t, N, V, ignore, a.flag(8));
  return a.undefined();
END

// ---- fused batch-1 decode (decode.cc) ----
// decoderCreate(dims: Int32Array [layers, hidden, heads, kvHeads, headDim, ffn, vocab, capacity,
// interleaved], eps, bufs: array) -> handle. bufs, in order: embed, finalNorm, cos, sin, the lm head as
// a weight; then per layer inputNorm, qNorm | null, kNorm | null, postNorm, kCache, vCache, and the
// weights wq, wk, wv, wo, gate, up, down. A weight is 3 entries: its fp32 buffer, its packed copy
// (Uint16Array bf16 bits | Uint8Array q8 codes + 128 | null) and the q8 scales (Uint16Array fp16 | null).
// Every length is checked here, once; the JS wrapper keeps the arrays alive while the handle is.
struct BufList {
  const Args& a;
  int arg;
  uint32_t n = 0, next = 0;
  BufList(const Args& args, int i) : a(args), arg(i) {
    bool is_array = false;
    napi_is_array(a.env, a.at(i), &is_array);
    if (!is_array) a.fail(i, "must be an array of buffers");
    napi_get_array_length(a.env, a.argv[i], &n);
  }
  // The next entry: a typed array of type `want` with at least `need` elements, or null where allowed.
  void* take(napi_typedarray_type want, double need, bool nullable, const char* what) {
    const uint32_t idx = next++;
    if (idx >= n) a.fail(arg, "has too few entries (" + std::to_string(n) + ")");
    napi_value e;
    napi_get_element(a.env, a.argv[arg], idx, &e);
    napi_valuetype vt;
    napi_typeof(a.env, e, &vt);
    if (vt == napi_null || vt == napi_undefined) {
      if (!nullable) a.fail(arg, "entry " + std::to_string(idx) + " (" + what + ") is missing");
      return nullptr;
    }
    napi_typedarray_type t;
    size_t len;
    void* data;
    if (!typed_info(a.env, e, &t, &len, &data) || t != want) a.fail(arg, "entry " + std::to_string(idx) + " (" + what + ") has the wrong type");
    if ((double)len < need) a.fail(arg, "entry " + std::to_string(idx) + " (" + what + ") has " + std::to_string(len) + " elements, needs " + std::to_string((long long)need));
    return data;
  }
  const float* f32(double need, const char* what, bool nullable = false) { return (const float*)take(napi_float32_array, need, nullable, what); }
  // fp32 buffer, packed copy (bf16 or q8) or null, q8 scales or null
  DecodeWeight weight(i64 N, i64 K, const char* what) {
    DecodeWeight w;
    w.N = N, w.K = K;
    w.f = f32((double)N * K, what);
    const uint32_t idx = next++;
    if (idx >= n) a.fail(arg, "has too few entries");
    napi_value e;
    napi_get_element(a.env, a.argv[arg], idx, &e);
    bool is_ta = false;
    napi_is_typedarray(a.env, e, &is_ta);
    if (is_ta) {
      napi_typedarray_type t;
      size_t len;
      void* data;
      napi_get_typedarray_info(a.env, e, &t, &len, &data, nullptr, nullptr);
      if ((double)len < (double)N * K) a.fail(arg, std::string(what) + ": the packed copy is too short");
      if (t == napi_uint16_array) w.fmt = DecodeWeight::BF16, w.b = (const uint16_t*)data;
      else if (t == napi_uint8_array) w.fmt = DecodeWeight::Q8, w.q = (const uint8_t*)data;
      else a.fail(arg, std::string(what) + ": the packed copy must be a Uint16Array (bf16) or a Uint8Array (q8 codes + 128)");
    }
    if (w.fmt == DecodeWeight::Q8 && K % 32 != 0) a.fail(arg, std::string(what) + ": q8 needs K to be a multiple of 32");
    w.s = (const uint16_t*)take(napi_uint16_array, w.fmt == DecodeWeight::Q8 ? (double)N * (K / 32) : 0, w.fmt != DecodeWeight::Q8, what);
    return w;
  }
};
DEF(decoderCreate)
  const int32_t* dims = a.i32(0, 9);
  for (int i = 0; i < 8; i++)
    if (dims[i] <= 0) a.fail(0, "holds a size that is not positive at index " + std::to_string(i));
  DecodeModel m;
  const i64 L = dims[0];
  m.hidden = dims[1], m.heads = dims[2], m.kv_heads = dims[3], m.head_dim = dims[4], m.ffn = dims[5], m.vocab = dims[6], m.capacity = dims[7];
  m.interleaved = dims[8] != 0;
  m.eps = (float)a.num(1);
  if (m.heads % m.kv_heads || m.head_dim % 2) a.fail(0, "needs kvHeads to divide heads and an even headDim");
  const i64 d = m.hidden, qd = m.heads * m.head_dim, kvd = m.kv_heads * m.head_dim, half = m.head_dim / 2;
  BufList b(a, 2);
  m.embed = b.f32((double)m.vocab * d, "embed");
  m.final_norm = b.f32((double)d, "finalNorm");
  m.cos = b.f32((double)half, "cos");
  {  // rows of the RoPE tables: decoderStep checks positions against them
    napi_value e;
    napi_get_element(a.env, a.argv[2], 2, &e);
    size_t len = 0;
    napi_get_typedarray_info(a.env, e, nullptr, &len, nullptr, nullptr, nullptr);
    m.rope_positions = (i64)len / half;
  }
  m.sin = b.f32((double)m.rope_positions * half, "sin");
  m.lm_head = b.weight(m.vocab, d, "lmHead");
  for (i64 l = 0; l < L; l++) {
    DecodeLayer y;
    y.input_norm = b.f32((double)d, "inputNorm");
    y.q_norm = b.f32((double)m.head_dim, "qNorm", true);
    y.k_norm = b.f32((double)m.head_dim, "kNorm", true);
    if (!y.q_norm != !y.k_norm) a.fail(2, "qNorm and kNorm must both be given or both be null");
    y.post_norm = b.f32((double)d, "postNorm");
    y.k_cache = (float*)b.f32((double)m.capacity * kvd, "kCache");
    y.v_cache = (float*)b.f32((double)m.capacity * kvd, "vCache");
    y.wq = b.weight(qd, d, "wq");
    y.wk = b.weight(kvd, d, "wk");
    y.wv = b.weight(kvd, d, "wv");
    y.wo = b.weight(d, qd, "wo");
    y.gate = b.weight(m.ffn, d, "gate");
    y.up = b.weight(m.ffn, d, "up");
    y.down = b.weight(d, m.ffn, "down");
    m.layers.push_back(y);
  }
  if (b.next != b.n) a.fail(2, "has " + std::to_string(b.n) + " entries, expected " + std::to_string(b.next));
  Decoder* dec = new Decoder(std::move(m));
  napi_value ext;
  napi_create_external(a.env, dec, [](napi_env, void* p, void*) { delete (Decoder*)p; }, nullptr, &ext);
  return ext;
END
// decoderStep(handle, token, pos, logits)
DEF(decoderStep)
  Decoder* dec = nullptr;
  if (napi_get_value_external(a.env, a.at(0), (void**)&dec) != napi_ok || !dec) a.fail(0, "must be a decoder handle (decoderCreate)");
  const DecodeModel& m = dec->model();
  const i64 token = a.size(1), pos = a.size(2);
  if (token >= m.vocab) a.fail(1, "token " + std::to_string(token) + " is outside the vocabulary of " + std::to_string(m.vocab));
  if (pos >= m.capacity || pos >= m.rope_positions) a.fail(2, "position " + std::to_string(pos) + " is outside the KV cache / RoPE tables");
  dec->step((int32_t)token, pos, a.f32(3, (double)m.vocab));
  return a.undefined();
END

// ---- optimizer ----
DEF(adamwStep)
  i64 n = a.size(4);
  adamw_step(a.f32(0, n), a.f32(1, n), a.f32(2, n), a.f32(3, n), n, (float)a.num(5), (float)a.num(6), (float)a.num(7), (float)a.num(8),
             (float)a.num(9), a.num(10));
  return a.undefined();
END

// ---- data dedup ----
// minhashSignature(sig: Uint32Array(2H), bytes: Uint8Array, byChar: boolean, n, aHi, aLo, bHi, bLo: Uint32Array(H)) -> bool
// (minhash.cc; false when the text has fewer than n units)
DEF(minhashSignature)
  size_t H = 0, nbytes = 0;  // sizes come from the arrays; raw() checks their types
  napi_get_typedarray_info(a.env, a.at(4), nullptr, &H, nullptr, nullptr, nullptr);
  napi_get_typedarray_info(a.env, a.at(1), nullptr, &nbytes, nullptr, nullptr, nullptr);
  const uint8_t* bytes = (const uint8_t*)a.raw(1, napi_uint8_array, "Uint8Array", 0);
  const i64 n = a.size(3);
  if (n < 1) a.fail(3, "must be at least 1");
  const bool done = minhash_signature((uint32_t*)a.raw(0, napi_uint32_array, "Uint32Array", 2.0 * H), bytes, (i64)nbytes, a.flag(2), n,
                                      (const uint32_t*)a.raw(4, napi_uint32_array, "Uint32Array", (double)H),
                                      (const uint32_t*)a.raw(5, napi_uint32_array, "Uint32Array", (double)H),
                                      (const uint32_t*)a.raw(6, napi_uint32_array, "Uint32Array", (double)H),
                                      (const uint32_t*)a.raw(7, napi_uint32_array, "Uint32Array", (double)H), (i64)H);
  napi_value r;
  napi_get_boolean(a.env, done, &r);
  return r;
END

// ---- files ----
// mapFile(path: string) -> ArrayBuffer | null: the whole file mapped read-only (a token store's
// ids.bin / mask.bin), its pages shared with the page cache and every other process that maps it,
// unmapped when the buffer is collected. null where the platform has no mmap. Read-only: a write
// through a view would fault, so only code that never writes (TokenStore) may hold one.
DEF(mapFile)
#ifdef _WIN32
  (void)a;
  napi_value nul;
  napi_get_null(a.env, &nul);
  return nul;
#else
  size_t len = 0;
  if (napi_get_value_string_utf8(a.env, a.at(0), nullptr, 0, &len) != napi_ok) a.fail(0, "must be a string (a file path)");
  std::string path(len, '\0');
  napi_get_value_string_utf8(a.env, a.argv[0], &path[0], len + 1, &len);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) a.fail(0, "(" + path + "): " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    a.fail(0, "(" + path + "): " + std::strerror(errno));
  }
  const size_t size = (size_t)st.st_size;
  napi_value ab;
  if (size == 0) {  // mmap refuses a length of 0
    close(fd);
    napi_create_arraybuffer(a.env, 0, nullptr, &ab);
    return ab;
  }
  void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);  // the mapping keeps the file open
  if (p == MAP_FAILED) a.fail(0, "(" + path + "): mmap: " + std::strerror(errno));
  auto unmap = [](napi_env, void* data, void* hint) { munmap(data, (size_t)(uintptr_t)hint); };
  if (napi_create_external_arraybuffer(a.env, p, size, unmap, (void*)(uintptr_t)size, &ab) != napi_ok) {
    munmap(p, size);
    a.fail(0, "(" + path + "): this Node.js does not allow external buffers");
  }
  return ab;
#endif
END

#define REG(NAME) {#NAME, nullptr, js_##NAME, nullptr, nullptr, nullptr, napi_default, nullptr}

napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      REG(setThreads), REG(getThreads), REG(setMatmulPrecision), REG(getMatmulPrecision), REG(setIsa), REG(getIsa), REG(fillValue),
      REG(add), REG(mul), REG(affine), REG(axpy), REG(sumSquares), REG(unaryForward), REG(unaryBackward),
      REG(matmul), REG(matmulPacked),
      REG(embeddingForward), REG(embeddingBackward), REG(rowScaleForward), REG(rowScaleBackward), REG(topk),
      REG(gatherForward), REG(gatherBackward),
      REG(permute), REG(sliceCopy), REG(sliceScatter), REG(sumAxis), REG(sumAxisBackward),
      REG(rmsnormForward), REG(rmsnormBackward), REG(ropeForward), REG(ropeBackward),
      REG(attentionForward), REG(attentionBackward), REG(attentionDecode), REG(swigluForward), REG(swigluBackward),
      REG(softmaxForward), REG(softmaxBackward), REG(logSoftmaxForward), REG(logSoftmaxBackward),
      REG(logprobGatherForward), REG(logprobGatherBackward), REG(adamwStep), REG(decoderCreate), REG(decoderStep),
      REG(minhashSignature), REG(mapFile),
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
