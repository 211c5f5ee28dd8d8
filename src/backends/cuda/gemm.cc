// GEMM through cuBLAS, loaded at run time with dlopen (the CUDA toolkit's libcublas.so.13, or the
// path in MINIMIND_CUBLAS), so the addon builds where only nvcc and the runtime headers exist.
// Row-major out (M, N) = op(a) @ op(b) is the column-major product out^T = op(b)^T op(a)^T.
// fp32 precision: fp32 operands, fp32 compute (no TF32), matching the CPU backends to ~1e-6.
// bf16 precision (PyTorch autocast's GEMMs): operands rounded to bf16 by our kernel, fp32 accumulate
// and an fp32 or bf16 output (bf16 activations), on the tensor cores.
#include "gemm.h"
#include "kernels.h"
#include "runtime.h"
#include <cuda_runtime.h>
#include <library_types.h>
#include <dlfcn.h>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace mm {

extern cudaStream_t stream;
void check(cudaError_t e, const char* what);

// The few cuBLAS declarations we use (cublas_api.h is not installed on every build machine).
typedef struct cublasContext* cublasHandle_t;
typedef int (*create_fn)(cublasHandle_t*);
typedef int (*set_stream_fn)(cublasHandle_t, cudaStream_t);
typedef int (*set_workspace_fn)(cublasHandle_t, void*, size_t);
typedef int (*gemm_ex_fn)(cublasHandle_t, int, int, int, int, int, const void*, const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int, int, int);
enum { OP_N = 0, OP_T = 1, COMPUTE_32F = 68, COMPUTE_32F_PEDANTIC = 69, COMPUTE_32F_FAST_16BF = 75, GEMM_DEFAULT = -1 };

static cublasHandle_t handle = nullptr;
static gemm_ex_fn gemm_ex = nullptr;
static std::string load_error;
static bool use_bf16 = false;
static void* scratch = nullptr;  // bf16 copies of both operands
static size_t scratch_bytes = 0;
static void* workspace = nullptr;

bool gemm_init(std::string* error) {
  if (handle) return true;
  const char* env = std::getenv("MINIMIND_CUBLAS");
  const char* names[] = {env, "libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.13", "libcublas.so.12", "libcublas.so"};
  void* lib = nullptr;
  for (const char* n : names) {
    if (n && (lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
  }
  if (!lib) {
    *error = "cuBLAS (libcublas.so.13) was not found; install the CUDA toolkit's cuBLAS or set MINIMIND_CUBLAS to its path";
    return false;
  }
  auto create = (create_fn)dlsym(lib, "cublasCreate_v2");
  auto set_stream = (set_stream_fn)dlsym(lib, "cublasSetStream_v2");
  auto set_ws = (set_workspace_fn)dlsym(lib, "cublasSetWorkspace_v2");
  gemm_ex = (gemm_ex_fn)dlsym(lib, "cublasGemmEx");
  if (!create || !set_stream || !gemm_ex) {
    *error = "the cuBLAS library found lacks cublasGemmEx";
    return false;
  }
  if (create(&handle) != 0) {
    *error = "cublasCreate failed (no usable GPU?)";
    handle = nullptr;
    return false;
  }
  set_stream(handle, stream);
  if (set_ws) {
    workspace = device_alloc(32u << 20);
    set_ws(handle, workspace, 32u << 20);
  }
  return true;
}

void gemm_set_bf16(bool on) { use_bf16 = on; }
bool gemm_bf16() { return use_bf16; }

static void* bf16_scratch(size_t bytes) {
  if (bytes > scratch_bytes) {
    if (scratch) device_free(scratch);
    scratch = device_alloc(bytes);
    scratch_bytes = block_size(scratch);
  }
  return scratch;
}

void matmul(void* out, const float* a, const float* b, int M, int N, int K, bool transA, bool transB, bool accumulate, bool a_bf16, bool b_bf16, bool out_bf16) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (!accumulate) check(cudaMemsetAsync(out, 0, (size_t)M * N * (out_bf16 ? 2 : 4), stream), "matmul");
    return;
  }
  const float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
  // column-major view: C^T (N, M) = op(b)^T (N, K) @ op(a)^T (K, M)
  int opb = transB ? OP_T : OP_N, ldb = transB ? K : N;
  int opa = transA ? OP_T : OP_N, lda = transA ? M : K;
  const cudaDataType out_t = out_bf16 ? CUDA_R_16BF : CUDA_R_32F;
  int st;
  // MINIMIND_CUDA_GEMM=fast16bf lets cuBLAS round fp32 operands to bf16 itself (compared with our
  // explicit conversion in bench runs; the explicit path is the default until it loses)
  static const bool fast16bf = std::getenv("MINIMIND_CUDA_GEMM") && std::string(std::getenv("MINIMIND_CUDA_GEMM")) == "fast16bf";
  if (a_bf16 || b_bf16) {
    // an operand rounded once by the caller; round the other here (if it is not too)
    const void* pa = a;
    const void* pb = b;
    if (!a_bf16 || !b_bf16) {
      size_t nn = a_bf16 ? (size_t)K * N : (size_t)M * K;
      void* s = bf16_scratch(nn * 2);
      to_bf16(s, a_bf16 ? b : a, (long long)nn);
      (a_bf16 ? pb : pa) = s;
    }
    st = gemm_ex(handle, opb, opa, N, M, K, &alpha, pb, CUDA_R_16BF, ldb, pa, CUDA_R_16BF, lda, &beta, out, out_t, N, COMPUTE_32F, GEMM_DEFAULT);
  } else if (out_bf16 && !use_bf16) {
    throw std::runtime_error("matmul: a bf16 output needs bf16 precision");
  } else if (use_bf16 && fast16bf && !out_bf16) {
    st = gemm_ex(handle, opb, opa, N, M, K, &alpha, b, CUDA_R_32F, ldb, a, CUDA_R_32F, lda, &beta, out, CUDA_R_32F, N, COMPUTE_32F_FAST_16BF, GEMM_DEFAULT);
  } else if (use_bf16) {
    size_t na = (size_t)M * K, nb = (size_t)K * N;
    size_t a_bytes = (na * 2 + 255) & ~size_t(255);
    char* s = (char*)bf16_scratch(a_bytes + nb * 2);
    to_bf16(s, a, (long long)na);
    to_bf16(s + a_bytes, b, (long long)nb);
    st = gemm_ex(handle, opb, opa, N, M, K, &alpha, s + a_bytes, CUDA_R_16BF, ldb, s, CUDA_R_16BF, lda, &beta, out, out_t, N, COMPUTE_32F, GEMM_DEFAULT);
  } else {
    st = gemm_ex(handle, opb, opa, N, M, K, &alpha, b, CUDA_R_32F, ldb, a, CUDA_R_32F, lda, &beta, out, CUDA_R_32F, N, COMPUTE_32F_PEDANTIC, GEMM_DEFAULT);
  }
  if (st != 0) throw std::runtime_error("cublasGemmEx failed with status " + std::to_string(st) + " (M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) + ")");
}

}  // namespace mm
