// N-API binding of the CUDA backend: device buffers cross to JS as numbers (their device address),
// kernels take those numbers plus sizes in the Backend interface's order. Every call checks that
// its buffers are live blocks of our allocator, so a stale or foreign handle is an Error, not a
// wild write on the GPU. CUDA failures become JS Errors naming the call.
#include <node_api.h>
#include <cuda_runtime.h>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>
#include <stdexcept>
#include <string>
#include "decode.h"
#include "gemm.h"
#include "kernels.h"
#include "runtime.h"

namespace mm {
void register_nccl(napi_env env, napi_value exports);  // nccl.cc
}

namespace {

using namespace mm;

struct Args {
  napi_env env;
  size_t argc = 28;
  napi_value argv[28];
  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr); }
  double num(size_t i) const {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) throw std::runtime_error("argument " + std::to_string(i) + " must be a number");
    return v;
  }
  long long i64(size_t i) const { return (long long)num(i); }
  int i32(size_t i) const { return (int)num(i); }
  float f(size_t i) const { return (float)num(i); }
  bool b(size_t i) const {
    bool v = false;
    if (i >= argc || napi_get_value_bool(env, argv[i], &v) != napi_ok) throw std::runtime_error("argument " + std::to_string(i) + " must be a boolean");
    return v;
  }
  // a device buffer handed out by alloc()
  template <typename T = float>
  T* ptr(size_t i) const {
    void* p = (void*)(uintptr_t)num(i);
    if (!block_size(p)) throw std::runtime_error("argument " + std::to_string(i) + " is not a live CUDA buffer (used after free?)");
    return (T*)p;
  }
  void* host(size_t i, size_t* bytes) const {
    napi_typedarray_type type;
    size_t len, off;
    void* data;
    napi_value ab;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, &len, &data, &ab, &off) != napi_ok) throw std::runtime_error("argument " + std::to_string(i) + " must be a typed array");
    size_t el = (type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array) ? 8 : (type == napi_int16_array || type == napi_uint16_array) ? 2 : (type == napi_int8_array || type == napi_uint8_array || type == napi_uint8_clamped_array) ? 1 : 4;
    *bytes = len * el;
    return data;
  }
};

napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

// Wraps a kernel body: C++ exceptions become JS Errors.
template <typename F>
napi_value guard(napi_env env, F&& f) {
  try {
    return f();
  } catch (const OutOfMemory& e) {
    // a code the JS side tells apart from a bug (core/errors.ts: isOutOfMemory)
    napi_throw_error(env, "MINIMIND_OUT_OF_MEMORY", e.what());
    return nullptr;
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
    return nullptr;
  }
}

#define FN(name) napi_value js_##name(napi_env env, napi_callback_info info)
#define BODY(...) return guard(env, [&]() -> napi_value { Args a(env, info); __VA_ARGS__; return nullptr; })

std::string init_error;

FN(init) {
  return guard(env, [&]() -> napi_value {
    Args a(env, info);
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
      cudaGetLastError();
      if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice || count == 0) throw std::runtime_error("no NVIDIA GPU with a CUDA 13 driver was found");
      throw std::runtime_error(std::string("no usable CUDA device (") + cudaGetErrorString(e) + ")");
    }
    int dev = a.argc > 0 ? a.i32(0) : 0;
    if (dev < 0 || dev >= count) throw std::runtime_error("CUDA device " + std::to_string(dev) + " does not exist (" + std::to_string(count) + " found)");
    init_device(dev);
    std::string err;
    if (!gemm_init(&err)) throw std::runtime_error(err);
    cudaDeviceProp prop;
    mm::check(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
    napi_value r, name;
    napi_create_object(env, &r);
    napi_create_string_utf8(env, prop.name, NAPI_AUTO_LENGTH, &name);
    napi_set_named_property(env, r, "name", name);
    napi_set_named_property(env, r, "totalMemory", number(env, (double)prop.totalGlobalMem));
    napi_set_named_property(env, r, "multiprocessors", number(env, prop.multiProcessorCount));
    napi_set_named_property(env, r, "capability", number(env, prop.major * 10 + prop.minor));
    return r;
  });
}

FN(alloc) {
  return guard(env, [&]() -> napi_value {
    Args a(env, info);
    return number(env, (double)(uintptr_t)device_alloc((size_t)a.num(0)));
  });
}
FN(free_) { BODY(device_free(a.ptr<void>(0))); }
FN(upload) {
  BODY(size_t bytes; void* src = a.host(1, &bytes); void* dst = a.ptr<void>(0);
       if (bytes > block_size(dst)) throw std::runtime_error("upload: host data larger than the buffer");
       mm::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream), "upload");
       mm::check(cudaStreamSynchronize(stream), "upload"));
}
FN(download) {
  BODY(size_t bytes; void* dst = a.host(1, &bytes); void* src = a.ptr<void>(0);
       if (bytes > block_size(src)) throw std::runtime_error("download: host array larger than the buffer");
       mm::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream), "download");
       mm::check(cudaStreamSynchronize(stream), "download"));
}
FN(synchronize) { BODY(mm::check(cudaStreamSynchronize(stream), "synchronize")); }
FN(memoryStats) {
  return guard(env, [&]() -> napi_value {
    MemoryStats s = memory_stats();
    napi_value r;
    napi_create_object(env, &r);
    napi_set_named_property(env, r, "live", number(env, (double)s.live));
    napi_set_named_property(env, r, "cached", number(env, (double)s.cached));
    napi_set_named_property(env, r, "peak", number(env, (double)s.peak));
    return r;
  });
}
FN(resetPeak) { BODY(reset_peak()); }
FN(setMemoryLimit) { BODY(set_memory_limit((size_t)a.num(0))); }
FN(releaseCached) { BODY(release_cached()); }
FN(setMatmulPrecision) {
  BODY(size_t n = 0; char buf[8] = {0}; napi_get_value_string_utf8(env, a.argv[0], buf, sizeof buf, &n); gemm_set_bf16(std::strcmp(buf, "bf16") == 0));
}

// ---- kernels, in the Backend interface's argument order ----
FN(fill) { BODY(fill(a.ptr<void>(0), a.num(1), a.b(2), a.i64(3))); }
FN(copy) { BODY(copy(a.ptr<void>(0), a.ptr<void>(1), a.i64(2))); }
FN(add) { BODY(add(a.ptr(0), a.ptr<void>(1), a.ptr<void>(2), a.i64(3), a.b(4), a.b(5))); }
FN(mul) { BODY(mul(a.ptr(0), a.ptr(1), a.ptr(2), a.i64(3))); }
FN(affine) { BODY(affine(a.ptr(0), a.ptr(1), a.f(2), a.f(3), a.i64(4))); }
FN(axpy) { BODY(axpy(a.ptr(0), a.ptr(1), a.f(2), a.i64(3))); }
FN(sumSquares) { BODY(sum_squares(a.ptr(0), a.ptr(1), a.i64(2), a.b(3))); }
FN(clipScale) { BODY(clip_scale(a.ptr(0), a.ptr(1), a.f(2), a.i64(3))); }
FN(unaryForward) { BODY(unary_forward(a.i32(0), a.ptr(1), a.ptr(2), a.i64(3))); }
FN(unaryBackward) { BODY(unary_backward(a.i32(0), a.ptr(1), a.ptr(2), a.ptr(3), a.ptr(4), a.i64(5), a.b(6))); }
FN(matmul) { BODY(matmul(a.ptr<void>(0), a.ptr(1), a.ptr(2), a.i32(3), a.i32(4), a.i32(5), a.b(6), a.b(7), a.b(8), a.b(9), a.b(10), a.b(11))); }
FN(toF32) { BODY(to_f32(a.ptr(0), a.ptr<void>(1), a.i64(2))); }
FN(toBf16) {
  BODY(void* dst = a.ptr<void>(0); long long n = a.i64(2);
       if ((size_t)n * 2 > block_size(dst)) throw std::runtime_error("toBf16: destination too small");
       to_bf16(dst, a.ptr(1), n));
}
FN(embeddingForward) { BODY(embedding_forward(a.ptr(0), a.ptr<int>(1), a.ptr(2), a.i64(3), a.i32(4), a.i32(5))); }
FN(embeddingBackward) { BODY(embedding_backward(a.ptr(0), a.ptr(1), a.ptr<int>(2), a.i64(3), a.i32(4), a.i32(5))); }
FN(rowScaleForward) { BODY(row_scale_forward(a.ptr(0), a.ptr(1), a.ptr(2), a.i64(3), a.i32(4))); }
FN(rowScaleBackward) { BODY(row_scale_backward(a.ptr(0), a.ptr(1), a.ptr(2), a.ptr(3), a.ptr(4), a.i64(5), a.i32(6), a.b(7), a.b(8))); }
FN(topk) { BODY(topk(a.ptr(0), a.ptr<int>(1), a.ptr(2), a.i64(3), a.i32(4), a.i32(5))); }
FN(gatherForward) { BODY(gather_forward(a.ptr(0), a.ptr(1), a.ptr<int>(2), a.i64(3), a.i32(4), a.i32(5))); }
FN(gatherBackward) { BODY(gather_backward(a.ptr(0), a.ptr(1), a.ptr<int>(2), a.i64(3), a.i32(4), a.i32(5))); }
FN(permute) {
  BODY(size_t sb, pb; const int* shape = (const int*)a.host(2, &sb); const int* perm = (const int*)a.host(3, &pb);
       if (sb != pb) throw std::runtime_error("permute: shape and perm differ in rank");
       permute(a.ptr<void>(0), a.ptr<void>(1), shape, perm, (int)(sb / 4), a.b(4)));
}
FN(sliceCopy) { BODY(slice_copy(a.ptr<void>(0), a.ptr<void>(1), a.i64(2), a.i64(3), a.i64(4), a.i64(5), a.i64(6), a.b(7))); }
FN(sliceScatter) { BODY(slice_scatter(a.ptr<void>(0), a.ptr<void>(1), a.i64(2), a.i64(3), a.i64(4), a.i64(5), a.i64(6), a.b(7))); }
FN(sumAxis) { BODY(sum_axis(a.ptr(0), a.ptr(1), a.i64(2), a.i64(3), a.i64(4))); }
FN(sumAxisBackward) { BODY(sum_axis_backward(a.ptr(0), a.ptr(1), a.i64(2), a.i64(3), a.i64(4), a.b(5))); }
FN(rmsnormForward) { BODY(rmsnorm_forward(a.ptr<void>(0), a.ptr(1), a.ptr<void>(2), a.ptr(3), a.i64(4), a.i32(5), a.f(6), a.b(7), a.b(8))); }
FN(rmsnormBackward) { BODY(rmsnorm_backward(a.ptr<void>(0), a.ptr(1), a.ptr<void>(2), a.ptr<void>(3), a.ptr(4), a.ptr(5), a.i64(6), a.i32(7), a.b(8), a.b(9), a.b(10), a.b(11), a.b(12))); }
FN(ropeForward) { BODY(rope_forward(a.ptr<void>(0), a.ptr<void>(1), a.ptr(2), a.ptr(3), a.i32(4), a.i32(5), a.i32(6), a.i32(7), a.i32(8), a.b(9), a.b(10))); }
FN(ropeBackward) { BODY(rope_backward(a.ptr<void>(0), a.ptr<void>(1), a.ptr(2), a.ptr(3), a.i32(4), a.i32(5), a.i32(6), a.i32(7), a.i32(8), a.b(9), a.b(10), a.b(11), a.b(12))); }
FN(attentionForward) { BODY(attention_forward(a.ptr<void>(0), a.ptr(1), a.ptr<void>(2), a.ptr<void>(3), a.ptr<void>(4), a.i32(5), a.i32(6), a.i32(7), a.i32(8), a.i32(9), a.i32(10), a.i32(11), a.f(12), a.b(13), a.b(14), a.b(15))); }
FN(attentionBackward) {
  BODY(attention_backward(a.ptr(0), a.ptr(1), a.ptr(2), a.ptr<void>(3), a.ptr<void>(4), a.ptr<void>(5), a.ptr<void>(6), a.ptr<void>(7), a.ptr(8), a.ptr(9),
                          a.i32(10), a.i32(11), a.i32(12), a.i32(13), a.i32(14), a.i32(15), a.i32(16), a.f(17), a.b(18), a.b(19), a.b(20),
                          a.b(21), a.b(22), a.b(23), a.b(24), a.b(25)));
}
FN(swigluForward) { BODY(swiglu_forward(a.ptr<void>(0), a.ptr<void>(1), a.ptr<void>(2), a.i64(3), a.b(4))); }
FN(swigluBackward) { BODY(swiglu_backward(a.ptr<void>(0), a.ptr<void>(1), a.ptr<void>(2), a.ptr<void>(3), a.ptr<void>(4), a.i64(5), a.b(6), a.b(7), a.b(8), a.b(9), a.b(10))); }
FN(softmaxForward) { BODY(softmax_forward(a.ptr(0), a.ptr(1), a.i64(2), a.i32(3))); }
FN(softmaxBackward) { BODY(softmax_backward(a.ptr(0), a.ptr(1), a.ptr(2), a.i64(3), a.i32(4), a.b(5))); }
FN(logSoftmaxForward) { BODY(log_softmax_forward(a.ptr(0), a.ptr(1), a.i64(2), a.i32(3))); }
FN(logSoftmaxBackward) { BODY(log_softmax_backward(a.ptr(0), a.ptr(1), a.ptr(2), a.i64(3), a.i32(4), a.b(5))); }
FN(logprobGatherForward) { BODY(logprob_gather_forward(a.ptr(0), a.ptr(1), a.ptr<void>(2), a.ptr<int>(3), a.i64(4), a.i32(5), a.i32(6), a.b(7))); }
FN(logprobGatherBackward) { BODY(logprob_gather_backward(a.ptr<void>(0), a.ptr(1), a.ptr<void>(2), a.ptr(3), a.ptr<int>(4), a.i64(5), a.i32(6), a.i32(7), a.b(8), a.b(9), a.b(10))); }
// argument 11: the guard buffer, or 0 for none
FN(adamwStep) { BODY(adamw_step(a.ptr(0), a.ptr(1), a.ptr(2), a.ptr(3), a.i64(4), a.f(5), a.f(6), a.f(7), a.f(8), a.f(9), a.i32(10), a.num(11) != 0 ? a.ptr(11) : nullptr)); }

// attentionDecode(out, q, k, v, kc Float64Array, vc Float64Array, pos Int32Array, S, H, KVH, D, scale)
FN(attentionDecode) {
  BODY(size_t kb, vb, pb;
       const double* kcs = (const double*)a.host(4, &kb);
       const double* vcs = (const double*)a.host(5, &vb);
       const int* pos = (const int*)a.host(6, &pb);
       const int S = a.i32(7), H = a.i32(8), KVH = a.i32(9), D = a.i32(10);
       if (kb != (size_t)S * 8 || vb != (size_t)S * 8 || pb != (size_t)S * 4) throw std::runtime_error("attentionDecode: need S caches and positions");
       const size_t inner = (size_t)KVH * D * 4;
       std::vector<float*> kc(S), vc(S);
       for (int s = 0; s < S; s++) {
         kc[s] = (float*)(uintptr_t)kcs[s];
         vc[s] = (float*)(uintptr_t)vcs[s];
         const size_t need = (size_t)(pos[s] + 1) * inner;
         if (pos[s] < 0 || block_size(kc[s]) < need || block_size(vc[s]) < need)
           throw std::runtime_error("attentionDecode: the cache of sequence " + std::to_string(s) + " holds too few for position " + std::to_string(pos[s]) + " (or is not a live CUDA buffer)");
       }
       float* out = a.ptr(0);
       const float *q = a.ptr(1), *k = a.ptr(2), *v = a.ptr(3);
       if (block_size(out) < (size_t)S * H * D * 4 || block_size((void*)q) < (size_t)S * H * D * 4 || block_size((void*)k) < (size_t)S * inner || block_size((void*)v) < (size_t)S * inner)
         throw std::runtime_error("attentionDecode: q/k/v/out smaller than S rows");
       attention_decode(out, q, k, v, kc.data(), vc.data(), pos, S, H, KVH, D, a.f(11)));
}

// Lists of device buffers for the multi-tensor kernels: Float64Array addresses, sizes in floats,
// each checked to be a live block that holds its size.
struct BufList {
  std::vector<float*> ptr;
  std::vector<long long> n;
};
BufList buf_list(const Args& a, size_t addrs, size_t sizes, const char* what) {
  size_t ab, sb;
  const double* p = (const double*)a.host(addrs, &ab);
  const double* n = (const double*)a.host(sizes, &sb);
  if (ab != sb) throw std::runtime_error(std::string(what) + ": one size per buffer");
  BufList L;
  for (size_t i = 0; i < ab / 8; i++) {
    float* b = (float*)(uintptr_t)p[i];
    if (block_size(b) < (size_t)n[i] * 4) throw std::runtime_error(std::string(what) + ": buffer " + std::to_string(i) + " is not a live CUDA buffer of its size");
    L.ptr.push_back(b);
    L.n.push_back((long long)n[i]);
  }
  return L;
}
// adamwStepMulti(params, grads, m, v, sizes, lr, beta1, beta2, eps, weightDecay, step, guard)
FN(adamwStepMulti) {
  BODY(BufList p = buf_list(a, 0, 4, "adamwStepMulti"), g = buf_list(a, 1, 4, "adamwStepMulti"), m = buf_list(a, 2, 4, "adamwStepMulti"), v = buf_list(a, 3, 4, "adamwStepMulti");
       if (g.ptr.size() != p.ptr.size() || m.ptr.size() != p.ptr.size() || v.ptr.size() != p.ptr.size()) throw std::runtime_error("adamwStepMulti: lists differ in length");
       adamw_step_multi(p.ptr.data(), g.ptr.data(), m.ptr.data(), v.ptr.data(), p.n.data(), (int)p.ptr.size(), a.f(5), a.f(6), a.f(7), a.f(8), a.f(9), a.i32(10), a.num(11) != 0 ? a.ptr(11) : nullptr));
}
// sumSquaresMulti(out, xs, sizes, accumulate); clipScaleMulti(xs, sizes, sumsq, maxNorm)
FN(sumSquaresMulti) { BODY(BufList x = buf_list(a, 1, 2, "sumSquaresMulti"); sum_squares_multi(a.ptr(0), x.ptr.data(), x.n.data(), (int)x.ptr.size(), a.b(3))); }
FN(clipScaleMulti) { BODY(BufList x = buf_list(a, 0, 1, "clipScaleMulti"); clip_scale_multi(x.ptr.data(), x.n.data(), (int)x.ptr.size(), a.ptr(2), a.f(3))); }

// ---- profiling (MINIMIND_CUDA_PROFILE=1): CUDA events around each kernel call, read at report time ----
std::vector<cudaEvent_t> prof_events;  // pairs: start, end
size_t prof_used = 0;
FN(profMark) {
  BODY(if (prof_used == prof_events.size()) { cudaEvent_t e; mm::check(cudaEventCreate(&e), "profMark"); prof_events.push_back(e); }
       mm::check(cudaEventRecord(prof_events[prof_used++], stream), "profMark"));
}
// -> Float64Array of milliseconds between marks 2i and 2i+1; forgets the marks
FN(profCollect) {
  return guard(env, [&]() -> napi_value {
    mm::check(cudaStreamSynchronize(stream), "profCollect");
    size_t n = prof_used / 2;
    napi_value ab, arr;
    void* data;
    napi_create_arraybuffer(env, n * 8, &data, &ab);
    for (size_t i = 0; i < n; i++) {
      float ms = 0;
      mm::check(cudaEventElapsedTime(&ms, prof_events[2 * i], prof_events[2 * i + 1]), "profCollect");
      ((double*)data)[i] = ms;
    }
    napi_create_typedarray(env, napi_float64_array, n, ab, 0, &arr);
    prof_used = 0;
    return arr;
  });
}

// ---- the fused batch-1 decode step (decode.cu) ----
std::set<Decoder*> decoders;  // live handles, so a stale one is an Error
Decoder* decoder_arg(const Args& a, size_t i) {
  Decoder* d = (Decoder*)(uintptr_t)a.num(i);
  if (!decoders.count(d)) throw std::runtime_error("the fused decoder was disposed");
  return d;
}
// (dims Int32Array [layers, hidden, heads, kv_heads, head_dim, ffn, vocab, capacity, interleaved], eps,
//  ptrs Float64Array [embed, final_norm, lm_head, cos, sin, then per layer input_norm, wq, wk, wv, wo,
//  q_norm|0, k_norm|0, post_norm, w_gate, w_up, w_down, k_cache, v_cache]) -> handle
FN(decoderCreate) {
  return guard(env, [&]() -> napi_value {
    Args a(env, info);
    size_t db, pb;
    const int* dims = (const int*)a.host(0, &db);
    const double* ptrs = (const double*)a.host(2, &pb);
    if (db != 9 * 4) throw std::runtime_error("decoderCreate: 9 dimensions expected");
    DecodeSpec s{dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6], dims[7], dims[8] != 0, a.f(1)};
    if (pb != (size_t)(5 + 13 * s.layers) * 8) throw std::runtime_error("decoderCreate: wrong number of buffers");
    size_t at = 0;
    // each buffer must be a live block holding at least `floats` floats (0 = absent, when optional)
    auto buf = [&](long long floats, bool optional = false) -> float* {
      void* p = (void*)(uintptr_t)ptrs[at++];
      if (!p && optional) return nullptr;
      size_t have = block_size(p);
      if (!have) throw std::runtime_error("decoderCreate: buffer " + std::to_string(at - 1) + " is not a live CUDA buffer");
      if (have < (size_t)floats * 4) throw std::runtime_error("decoderCreate: buffer " + std::to_string(at - 1) + " is smaller than its shape");
      return (float*)p;
    };
    long long d = s.hidden, D = s.head_dim, qd = (long long)s.heads * D, kvd = (long long)s.kv_heads * D, f = s.ffn;
    s.embed = buf((long long)s.vocab * d);
    s.final_norm = buf(d);
    s.lm_head = buf((long long)s.vocab * d);
    s.cos = buf((long long)s.capacity * (D / 2));
    s.sin = buf((long long)s.capacity * (D / 2));
    for (int l = 0; l < s.layers; l++) {
      DecodeLayer L;
      L.input_norm = buf(d);
      L.wq = buf(qd * d);
      L.wk = buf(kvd * d);
      L.wv = buf(kvd * d);
      L.wo = buf(d * qd);
      L.q_norm = buf(D, true);
      L.k_norm = buf(D, true);
      L.post_norm = buf(d);
      L.w_gate = buf(f * d);
      L.w_up = buf(f * d);
      L.w_down = buf(d * f);
      L.k_cache = buf((long long)s.capacity * kvd);
      L.v_cache = buf((long long)s.capacity * kvd);
      s.layer.push_back(L);
    }
    Decoder* dec = decoder_create(s);
    decoders.insert(dec);
    return number(env, (double)(uintptr_t)dec);
  });
}
FN(decoderStep) {
  BODY(Decoder* d = decoder_arg(a, 0); size_t bytes; float* out = (float*)a.host(3, &bytes);
       if (bytes < (size_t)decoder_vocab(d) * 4) throw std::runtime_error("decoderStep: the logits array is shorter than the vocabulary");
       decoder_step(d, a.i32(1), a.i32(2), out));
}
FN(decoderFree) { BODY(Decoder* d = decoder_arg(a, 0); decoders.erase(d); decoder_destroy(d)); }

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
#define P(name, fn) {name, nullptr, fn, nullptr, nullptr, nullptr, napi_default, nullptr}
      P("init", js_init), P("alloc", js_alloc), P("free", js_free_), P("upload", js_upload), P("download", js_download),
      P("synchronize", js_synchronize), P("memoryStats", js_memoryStats), P("resetPeak", js_resetPeak), P("setMemoryLimit", js_setMemoryLimit), P("releaseCached", js_releaseCached),
      P("setMatmulPrecision", js_setMatmulPrecision),
      P("fill", js_fill), P("copy", js_copy), P("add", js_add), P("mul", js_mul), P("affine", js_affine), P("axpy", js_axpy),
      P("sumSquares", js_sumSquares), P("clipScale", js_clipScale), P("unaryForward", js_unaryForward), P("unaryBackward", js_unaryBackward),
      P("matmul", js_matmul), P("toBf16", js_toBf16), P("toF32", js_toF32), P("embeddingForward", js_embeddingForward), P("embeddingBackward", js_embeddingBackward),
      P("rowScaleForward", js_rowScaleForward), P("rowScaleBackward", js_rowScaleBackward), P("topk", js_topk),
      P("gatherForward", js_gatherForward), P("gatherBackward", js_gatherBackward), P("permute", js_permute),
      P("sliceCopy", js_sliceCopy), P("sliceScatter", js_sliceScatter), P("sumAxis", js_sumAxis), P("sumAxisBackward", js_sumAxisBackward),
      P("rmsnormForward", js_rmsnormForward), P("rmsnormBackward", js_rmsnormBackward), P("ropeForward", js_ropeForward),
      P("ropeBackward", js_ropeBackward), P("attentionForward", js_attentionForward), P("attentionBackward", js_attentionBackward),
      P("swigluForward", js_swigluForward), P("swigluBackward", js_swigluBackward), P("softmaxForward", js_softmaxForward),
      P("softmaxBackward", js_softmaxBackward), P("logSoftmaxForward", js_logSoftmaxForward), P("logSoftmaxBackward", js_logSoftmaxBackward),
      P("logprobGatherForward", js_logprobGatherForward), P("logprobGatherBackward", js_logprobGatherBackward), P("adamwStep", js_adamwStep), P("adamwStepMulti", js_adamwStepMulti), P("sumSquaresMulti", js_sumSquaresMulti), P("clipScaleMulti", js_clipScaleMulti),
      P("profMark", js_profMark), P("profCollect", js_profCollect),
      P("attentionDecode", js_attentionDecode), P("decoderCreate", js_decoderCreate), P("decoderStep", js_decoderStep), P("decoderFree", js_decoderFree),
#undef P
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  register_nccl(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
