// The CUDA runtime side of the backend: the one stream, error checks, and a caching device
// allocator (freed blocks are kept by rounded size and handed out again, as PyTorch's allocator
// does), so a training step that repeats its shapes does not call cudaMalloc after the first step.
#include "runtime.h"
#include <cuda_runtime.h>
#include <map>
#include <unordered_map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace mm {

cudaStream_t stream = nullptr;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}
void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

static std::multimap<size_t, void*> cached;  // free blocks by size
static std::unordered_map<void*, size_t> sizes;  // live blocks
static size_t live_bytes = 0, cached_bytes = 0, peak_bytes = 0, limit_bytes = 0;

static std::string mib(size_t bytes) { return std::to_string((bytes + (1u << 19)) >> 20) + " MiB"; }

void set_memory_limit(size_t bytes) { limit_bytes = bytes; }

// 512-byte steps under 1 MiB, 2 MiB steps above: little slack, few distinct sizes.
static size_t round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes < (1u << 20)) return (bytes + 511) & ~size_t(511);
  size_t step = size_t(2) << 20;
  return (bytes + step - 1) / step * step;
}

void init_device(int device) {
  if (stream) return;
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
}

void* device_alloc(size_t bytes) {
  size_t size = round_size(bytes);
  auto it = cached.find(size);
  void* p = nullptr;
  if (it != cached.end()) {
    p = it->second;
    cached.erase(it);
    cached_bytes -= size;
  } else {
    // under a cap, cached blocks of other sizes go back to the driver before the cap is passed
    if (limit_bytes && live_bytes + cached_bytes + size > limit_bytes) release_cached();
    if (limit_bytes && live_bytes + size > limit_bytes)
      throw OutOfMemory("GPU out of memory: " + mib(size) + " more with " + mib(live_bytes) + " in use passes the --max-gpu-memory cap of " + mib(limit_bytes) + "; use --batch-size auto, a smaller --batch-size or --max-seq-len, or --gradient-checkpointing");
    cudaError_t e = cudaMalloc(&p, size);
    if (e != cudaSuccess) {
      // out of memory: give the cached blocks back and try once more
      cudaGetLastError();
      release_cached();
      e = cudaMalloc(&p, size);
      if (e != cudaSuccess) {
        cudaGetLastError();
        throw OutOfMemory("GPU out of memory: the card has no room for " + mib(size) + " more with " + mib(live_bytes) + " in use; use --batch-size auto, a smaller --batch-size or --max-seq-len, or --gradient-checkpointing");
      }
    }
  }
  sizes[p] = size;
  live_bytes += size;
  if (live_bytes > peak_bytes) peak_bytes = live_bytes;
  return p;
}

void device_free(void* p) {
  auto it = sizes.find(p);
  if (it == sizes.end()) throw std::runtime_error("device_free: not a live block of this allocator");
  size_t size = it->second;
  sizes.erase(it);
  cached.emplace(size, p);
  live_bytes -= size;
  cached_bytes += size;
}

size_t block_size(void* p) {
  auto it = sizes.find(p);
  return it == sizes.end() ? 0 : it->second;
}

void release_cached() {
  if (cached.empty()) return;
  check(cudaStreamSynchronize(stream), "synchronize");
  for (auto& kv : cached) cudaFree(kv.second);
  cached.clear();
  cached_bytes = 0;
}

MemoryStats memory_stats() { return {live_bytes, cached_bytes, peak_bytes}; }
void reset_peak() { peak_bytes = live_bytes; }

}  // namespace mm
