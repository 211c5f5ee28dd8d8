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
