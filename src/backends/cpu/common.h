// Shared helpers of the native CPU backend: integer types, the thread-count setting and the
// thread-pool entry points (pool.cc; plain std::thread, so nothing beyond a C++17 compiler), per-thread
// aligned scratch memory, run-time ISA selection and a vectorisable exp.
#pragma once
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <cmath>
#include <algorithm>

#include <functional>

typedef int64_t i64;

namespace mm {

// ---- threads ----
int num_threads();
void set_num_threads(int n);

// ---- GEMM precision: false = fp32, true = bf16 operands / fp32 accumulation. matmul_bf16() is
// true only while the ISA level in use has a bf16 GEMM (AVX512-BF16 or AMX). ----
bool matmul_bf16();
void set_matmul_bf16(bool on);

// ---- ISA: ordered levels, each implies the ones below. fp32 kernels use AVX-512 from ISA_AVX512
// up; the bf16 GEMM needs ISA_AVX512BF16 (vdpbf16ps) or ISA_AMX (tiles). ----
enum Isa { ISA_GENERIC = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_AVX512BF16 = 3, ISA_AMX = 4 };
Isa current_isa();
Isa best_isa();
void set_isa(Isa isa);
const char* isa_name(Isa isa);

// ---- scratch: 64-byte aligned, grows, owned by the calling thread (slot 0 .. 7 picks one of several) ----
float* scratch(int slot, size_t floats);

// Runs fn(task) for task = 0 .. ntasks-1 on the thread pool (pool.cc) and the calling thread;
// returns when all are done. nthreads <= 1, or a call from inside a task, runs them in order here.
void parallel_tasks(i64 ntasks, int nthreads, const std::function<void(i64)>& fn);

// Runs fn(begin, end) over [0, n) split into one contiguous chunk per thread. Small n (below
// `grain` items per thread) runs on the calling thread alone: waking the pool costs ~1 us.
template <class F>
inline void parallel_range(i64 n, i64 grain, F fn) {
  int nt = num_threads();
  if (grain < 1) grain = 1;
  i64 useful = n / grain;
  if (useful < nt) nt = (int)std::max<i64>(1, useful);
  if (nt <= 1) { fn((i64)0, n); return; }
  parallel_tasks(nt, nt, [&](i64 t) {
    i64 b = n * t / nt, e = n * (t + 1) / nt;
    if (b < e) fn(b, e);
  });
}

// A backward kernel's store into a gradient: d += v when accumulating, d = v when overwriting (the
// first write of a gradient, which then needs no zero fill). with_grad_store(acc, f) calls f with
// one of the two as a template argument, so each mode is its own loop, vectorised as the old
// accumulate-only loops were (a per-element branch or select defeats the vectoriser). f must be
// an MM_INLINE lambda, so that it is compiled into the caller's ISA clone.
struct GradAdd {
  void operator()(float& d, float v) const { d += v; }
};
struct GradSet {
  void operator()(float& d, float v) const { d = v; }
};
#define MM_INLINE __attribute__((always_inline))
template <class F>
MM_INLINE inline void with_grad_store(bool acc, F&& f) {
  if (acc) f(GradAdd{});
  else f(GradSet{});
}
template <class F>
MM_INLINE inline void with_grad_store(bool acc_a, bool acc_b, F&& f) {
  with_grad_store(acc_a, [&](auto put_a) MM_INLINE { with_grad_store(acc_b, [&](auto put_b) MM_INLINE { f(put_a, put_b); }); });
}

// exp(x) for float, ~2 ulp, written so that compilers vectorise loops that call it (no libm call).
inline float fast_exp(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

}  // namespace mm

// Function multi-versioning for auto-vectorised loops: one clone per x86 level, picked at load
// time. Elsewhere (ARM, other compilers) the plain function is compiled for the target's baseline.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define MM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define MM_X86 1
#else
#define MM_CLONES
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define MM_X86_INTRIN 1
#endif
