// Device, stream and memory of the CUDA backend (runtime.cc).
#pragma once
#include <cstddef>
#include <cuda_runtime.h>

namespace mm {

/** The stream every kernel, GEMM and copy is queued on. */
extern cudaStream_t stream;
/** Throws a std::runtime_error naming `what` when e is an error. */
void check(cudaError_t e, const char* what);

void init_device(int device);
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
