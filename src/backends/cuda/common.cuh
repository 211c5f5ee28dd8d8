// Shared helpers of the CUDA kernels: launch geometry, block reductions, the one stream that
// every kernel and copy runs on (so buffers freed to the caching allocator are reused in order).
#pragma once
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cstdint>

namespace mm {

extern cudaStream_t stream;

// Throws a std::runtime_error naming the failing call (the addon turns it into a JS Error).
void check(cudaError_t e, const char* what);
// After a kernel launch: launch-configuration errors surface here, without a device sync.
void check_launch(const char* kernel);

inline unsigned blocks_for(long long n, int threads = 256) {
  long long b = (n + threads - 1) / threads;
  if (b > 65535LL * 16) b = 65535LL * 16;  // grid-stride loops cover the rest
  return (unsigned)(b < 1 ? 1 : b);
}

// bf16 activations (src/ops/precision.ts): kernels that take either storage precision read and
// write through these, templated on the element type; arithmetic stays float32.
typedef __nv_bfloat16 bf16;
__device__ inline float ldf(const float* p, long long i) { return p[i]; }
__device__ inline float ldf(const bf16* p, long long i) { return __bfloat162float(p[i]); }
__device__ inline void stf(float* p, long long i, float v) { p[i] = v; }
__device__ inline void stf(bf16* p, long long i, float v) { p[i] = __float2bfloat16_rn(v); }
// four bf16 (one 8-byte load) <-> four floats
__device__ inline float4 bf4_load(const uint2* p, long long i) {
  const uint2 u = p[i];
  const float2 a = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&u.x));
  const float2 b = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&u.y));
  return make_float4(a.x, a.y, b.x, b.y);
}
__device__ inline void bf4_store(uint2* p, long long i, float4 v) {
  __nv_bfloat162 a = __floats2bfloat162_rn(v.x, v.y), b = __floats2bfloat162_rn(v.z, v.w);
  p[i] = make_uint2(*reinterpret_cast<uint32_t*>(&a), *reinterpret_cast<uint32_t*>(&b));
}

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ inline float block_sum(float v) {
  __shared__ float part[32];
  __syncthreads();  // part[] may still be read by a previous call
  v = warp_sum(v);
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  if (lane == 0) part[w] = v;
  __syncthreads();
  int nw = blockDim.x >> 5;
  float t = lane < nw ? part[lane] : 0.f;
  return warp_sum(t);
}
__device__ inline float block_max(float v) {
  __shared__ float part[32];
  __syncthreads();
  v = warp_max(v);
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  if (lane == 0) part[w] = v;
  __syncthreads();
  int nw = blockDim.x >> 5;
  float t = lane < nw ? part[lane] : -INFINITY;
  return warp_max(t);
}

}  // namespace mm
