// NCCL for data-parallel training, loaded at run time with dlopen (libnccl.so.2, or the path in
// MINIMIND_NCCL), so the addon builds where nccl.h is absent and installs where libnccl is. One
// communicator per process (one process per GPU, as torchrun does). All-reduces run on mm::stream,
// the stream every kernel is queued on, so they start after the backward kernels that wrote the
// gradients and before the optimizer kernels that read them, with no host synchronisation.
//   ncclGetUniqueId() -> Uint8Array(128)   (rank 0; sent to the other ranks over the rendezvous)
//   ncclInit(id, nranks, rank)             (blocks until every rank has joined)
//   ncclAllReduce(ptrs, counts)            (float32 sums in place; one grouped call = one bucket)
//   ncclAbort() / ncclDestroy() / ncclVersion()
#include <node_api.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include "runtime.h"

namespace {

// The few declarations of nccl.h we use (nccl.h is not on every build machine). The ABI is
// stable across NCCL 2.x: an opaque comm pointer, a 128-byte id, int enums.
typedef struct ncclComm* ncclComm_t;
struct ncclUniqueId { char internal[128]; };
typedef int ncclResult_t;
enum { ncclSuccess = 0, ncclFloat32 = 7, ncclSum = 0 };
typedef ncclResult_t (*get_unique_id_fn)(ncclUniqueId*);
typedef ncclResult_t (*comm_init_rank_fn)(ncclComm_t*, int, ncclUniqueId, int);
typedef ncclResult_t (*all_reduce_fn)(const void*, void*, size_t, int, int, ncclComm_t, cudaStream_t);
typedef ncclResult_t (*comm_fn)(ncclComm_t);
typedef ncclResult_t (*group_fn)();
typedef ncclResult_t (*version_fn)(int*);
typedef const char* (*error_string_fn)(ncclResult_t);

struct Nccl {
  get_unique_id_fn get_unique_id;
  comm_init_rank_fn comm_init_rank;
  all_reduce_fn all_reduce;
  comm_fn comm_abort, comm_destroy;
  group_fn group_start, group_end;
  version_fn get_version;
  error_string_fn error_string;
};

Nccl nccl;
bool loaded = false;
ncclComm_t comm = nullptr;

void load() {
  if (loaded) return;
  const char* env = std::getenv("MINIMIND_NCCL");
  const char* names[] = {env, "libnccl.so.2", "libnccl.so"};
  void* lib = nullptr;
  std::string tried;
  for (const char* n : names) {
    if (!n) continue;
    if ((lib = dlopen(n, RTLD_NOW | RTLD_GLOBAL))) break;
    tried += std::string(tried.empty() ? "" : ", ") + n;
  }
  if (!lib) throw std::runtime_error("NCCL (libnccl.so.2) was not found (tried " + tried + "); install NCCL or set MINIMIND_NCCL to the library's path (pip's nvidia-nccl-cu13 has one in nvidia/nccl/lib)");
  auto sym = [&](const char* name) {
    void* f = dlsym(lib, name);
    if (!f) throw std::runtime_error(std::string("NCCL: symbol ") + name + " not found in the loaded libnccl");
    return f;
  };
  nccl.get_unique_id = (get_unique_id_fn)sym("ncclGetUniqueId");
  nccl.comm_init_rank = (comm_init_rank_fn)sym("ncclCommInitRank");
  nccl.all_reduce = (all_reduce_fn)sym("ncclAllReduce");
  nccl.comm_abort = (comm_fn)sym("ncclCommAbort");
  nccl.comm_destroy = (comm_fn)sym("ncclCommDestroy");
  nccl.group_start = (group_fn)sym("ncclGroupStart");
  nccl.group_end = (group_fn)sym("ncclGroupEnd");
  nccl.get_version = (version_fn)sym("ncclGetVersion");
  nccl.error_string = (error_string_fn)sym("ncclGetErrorString");
  loaded = true;
}

void check(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) throw std::runtime_error(std::string("NCCL error in ") + what + ": " + nccl.error_string(r));
}

template <typename F>
napi_value guard(napi_env env, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
    return nullptr;
  }
}

struct Args {
  napi_env env;
  size_t argc = 4;
  napi_value argv[4];
  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr); }
  double num(size_t i) const {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) throw std::runtime_error("NCCL: argument " + std::to_string(i) + " must be a number");
    return v;
  }
  void* typed(size_t i, napi_typedarray_type want, size_t* len) const {
    napi_typedarray_type type;
    size_t off;
    void* data;
    napi_value ab;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, len, &data, &ab, &off) != napi_ok || type != want) throw std::runtime_error("NCCL: argument " + std::to_string(i) + " has the wrong array type");
    return data;
  }
};

napi_value js_get_unique_id(napi_env env, napi_callback_info) {
  return guard(env, [&]() -> napi_value {
    load();
    ncclUniqueId id;
    check(nccl.get_unique_id(&id), "ncclGetUniqueId");
    void* data;
    napi_value ab, arr;
    napi_create_arraybuffer(env, sizeof id, &data, &ab);
    std::memcpy(data, &id, sizeof id);
    napi_create_typedarray(env, napi_uint8_array, sizeof id, ab, 0, &arr);
    return arr;
  });
}

napi_value js_init(napi_env env, napi_callback_info info) {
  return guard(env, [&]() -> napi_value {
    Args a(env, info);
    load();
    if (comm) throw std::runtime_error("NCCL: this process already has a communicator");
    size_t len;
    const void* bytes = a.typed(0, napi_uint8_array, &len);
    if (len != sizeof(ncclUniqueId)) throw std::runtime_error("NCCL: the unique id must be 128 bytes");
    ncclUniqueId id;
    std::memcpy(&id, bytes, sizeof id);
    // cudaSetDevice was done by the backend's init (the device of this rank)
    check(nccl.comm_init_rank(&comm, (int)a.num(1), id, (int)a.num(2)), "ncclCommInitRank");
    return nullptr;
  });
}

// ptrs: Float64Array of device addresses of our allocator's blocks; counts: Float64Array of float32
// element counts. Issued as one NCCL group (NCCL fuses the group's collectives into few kernels).
napi_value js_all_reduce(napi_env env, napi_callback_info info) {
  return guard(env, [&]() -> napi_value {
    Args a(env, info);
    if (!comm) throw std::runtime_error("NCCL: no communicator (ncclInit first)");
    size_t n, m;
    const double* ptrs = (const double*)a.typed(0, napi_float64_array, &n);
    const double* counts = (const double*)a.typed(1, napi_float64_array, &m);
    if (n != m) throw std::runtime_error("NCCL: ptrs and counts differ in length");
    for (size_t i = 0; i < n; i++) {
      void* p = (void*)(uintptr_t)ptrs[i];
      if (mm::block_size(p) < (size_t)counts[i] * 4) throw std::runtime_error("NCCL: buffer " + std::to_string(i) + " is not a live CUDA buffer of that size");
    }
    check(nccl.group_start(), "ncclGroupStart");
    for (size_t i = 0; i < n; i++) {
      void* p = (void*)(uintptr_t)ptrs[i];
      ncclResult_t r = nccl.all_reduce(p, p, (size_t)counts[i], ncclFloat32, ncclSum, comm, mm::stream);
      if (r != ncclSuccess) {
        nccl.group_end();
        check(r, "ncclAllReduce");
      }
    }
    check(nccl.group_end(), "ncclGroupEnd");
    return nullptr;
  });
}

napi_value js_abort(napi_env env, napi_callback_info) {
  return guard(env, [&]() -> napi_value {
    if (comm) nccl.comm_abort(comm);
    comm = nullptr;
    return nullptr;
  });
}

napi_value js_destroy(napi_env env, napi_callback_info) {
  return guard(env, [&]() -> napi_value {
    if (comm) {
      mm::check(cudaStreamSynchronize(mm::stream), "ncclDestroy");
      check(nccl.comm_destroy(comm), "ncclCommDestroy");
    }
    comm = nullptr;
    return nullptr;
  });
}

napi_value js_version(napi_env env, napi_callback_info) {
  return guard(env, [&]() -> napi_value {
    load();
    int v = 0;
    check(nccl.get_version(&v), "ncclGetVersion");
    napi_value r;
    napi_create_int32(env, v, &r);
    return r;
  });
}

}  // namespace

namespace mm {

/** Adds the ncclXxx functions to the addon's exports (called from addon.cc's Init). */
void register_nccl(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
#define P(name, fn) {name, nullptr, fn, nullptr, nullptr, nullptr, napi_default, nullptr}
      P("ncclGetUniqueId", js_get_unique_id), P("ncclInit", js_init), P("ncclAllReduce", js_all_reduce),
      P("ncclAbort", js_abort), P("ncclDestroy", js_destroy), P("ncclVersion", js_version),
#undef P
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace mm
