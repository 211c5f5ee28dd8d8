// Run-time state of the native backend: thread count, the chosen instruction set (best the CPU
// supports unless overridden, e.g. by tests exercising every path), per-thread scratch buffers.
#include "common.h"
#include "gemm.h"
#include <cstdlib>

namespace mm {

static int g_threads = 1;
static Isa g_isa = best_isa();

static bool g_bf16 = false;
bool matmul_bf16() { return g_bf16 && g_isa >= ISA_AVX512BF16; }
void set_matmul_bf16(bool on) { g_bf16 = on; }

int num_threads() { return g_threads; }
void set_num_threads(int n) { g_threads = n < 1 ? 1 : n; }

Isa best_isa() {
#ifdef MM_X86_INTRIN
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    if (amx_available()) return ISA_AMX;
    if (avx512bf16_available()) return ISA_AVX512BF16;
    return ISA_AVX512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
#endif
  return ISA_GENERIC;
}
Isa current_isa() { return g_isa; }
void set_isa(Isa isa) { g_isa = isa > best_isa() ? best_isa() : isa; }
const char* isa_name(Isa isa) {
  static const char* names[] = {"generic", "avx2", "avx512", "avx512bf16", "amx"};
  return names[isa];
}

namespace {
struct Scratch {
  float* p[8] = {};
  size_t n[8] = {};
  ~Scratch() {
    for (int i = 0; i < 8; i++) std::free(p[i]);
  }
};
thread_local Scratch t_scratch;
}  // namespace

float* scratch(int slot, size_t floats) {
  Scratch& s = t_scratch;
  if (s.n[slot] < floats) {
    std::free(s.p[slot]);
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    s.p[slot] = (float*)std::aligned_alloc(64, bytes);
    s.n[slot] = s.p[slot] ? floats : 0;
  }
  return s.p[slot];
}

}  // namespace mm
