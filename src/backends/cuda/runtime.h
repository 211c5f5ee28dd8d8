// Device, stream and memory of the CUDA backend (runtime.cc).
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <cuda_runtime.h>

namespace mm {

/** The stream every kernel, GEMM and copy is queued on. */
extern cudaStream_t stream;
/** Throws a std::runtime_error naming `what` when e is an error. */
void check(cudaError_t e, const char* what);

/** The allocator could not give a block: the card is full, or the cap of set_memory_limit is reached. */
struct OutOfMemory : std::runtime_error {
  explicit OutOfMemory(const std::string& m) : std::runtime_error(m) {}
};

void init_device(int device);
/**
 * Caps the bytes the allocator holds (live blocks plus cached ones; 0 = the card's memory): a block
 * that would pass it throws OutOfMemory, as a full card does (--max-gpu-memory: a small card simulated).
 */
void set_memory_limit(size_t bytes);
/** A device block of at least `bytes` (256-byte aligned). */
void* device_alloc(size_t bytes);
/** Hands a block back to the cache (stream-ordered: later kernels may reuse it at once). */
void device_free(void* p);
/** The rounded size of a live block, 0 if p is not one (argument checks). */
size_t block_size(void* p);
/** Returns cached blocks to the driver (after the stream has drained). */
void release_cached();

struct MemoryStats {
  size_t live, cached, peak;
};
MemoryStats memory_stats();
void reset_peak();

}  // namespace mm
