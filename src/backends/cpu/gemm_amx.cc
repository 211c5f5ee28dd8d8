// bf16 GEMM on Intel AMX (Sapphire Rapids and later): the optional mixed-precision path. Operands
// are rounded to bf16 while being packed (round to nearest even), products accumulate in fp32 tile
// registers, and C stays fp32 — the arithmetic of PyTorch's bf16 autocast for matmuls, with fp32
// master weights untouched. Tiles: C is worked in 32 x 32 blocks (4 fp32 tiles of 16 x 16), each
// k-step of 32 loads two 16 x 32 bf16 tiles of A and two VNNI-paired 16 x 16 tiles of B.
// Packing: op(B) once for all threads, all K (zero-padded to a multiple of 32); rows of A per
// 32-row block by the thread that uses them. Elsewhere (no AMX, or the OS refuses the tile state)
// amx_available() is false; sgemm_bf16 (gemm_bf16.cc) then picks AVX512-BF16 or fp32.
#include "gemm.h"
#include "bf16.h"

#if defined(MM_X86_INTRIN) && defined(__linux__)
#include <immintrin.h>
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define MM_HAVE_AMX 1
#endif

namespace mm {

#ifdef MM_HAVE_AMX
#define MM_AMX __attribute__((target("amx-tile,amx-bf16,avx512f")))

static bool detect_amx() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  if (!(d & (1u << 24)) || !(d & (1u << 22))) return false;  // AMX-TILE, AMX-BF16
  if (!__builtin_cpu_supports("avx512bw") || !__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) return false;  // AVX512-BF16
  // Linux keeps the 8 KB tile state off until a process asks (ARCH_REQ_XCOMP_PERM, XTILEDATA).
  return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}

bool amx_available() {
  static const bool ok = detect_amx();
  return ok;
}

struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

MM_AMX static void configure_tiles() {
  TileConfig cfg;
  for (int t = 0; t < 8; t++) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  // GCC 12's _tile_loadconfig tells the compiler it reads only 8 bytes, so the stores above could be
  // dropped as dead; this asm reads the whole 64-byte struct.
  __asm__ volatile("ldtilecfg %0" ::"m"(cfg) : "memory");
}

// A rows [i0, i0 + 32) x K range [k0, k0 + kc) -> ap[kchunk][rowtile][16][32] bf16, zero-padded to kcp.
static void pack_a_bf16_scalar(uint16_t* ap, const float* A, i64 lda, bool transA, i64 i0, i64 M, i64 k0, i64 kc, i64 kcp) {
  const i64 rows = std::min<i64>(32, M - i0);
  if (!transA) {
    for (i64 r = 0; r < 32; r++) {
      const i64 rt = r >> 4, rr = r & 15;
      const float* src = A + (i0 + r) * lda + k0;
      for (i64 q = 0; q < kcp; q += 32) {
        uint16_t* d = ap + ((q / 32 * 2 + rt) * 16 + rr) * 32;
        const i64 n = r < rows ? std::max<i64>(0, std::min<i64>(32, kc - q)) : 0;
        i64 kk = 0;
        for (; kk < n; kk++) d[kk] = to_bf16(src[q + kk]);
        for (; kk < 32; kk++) d[kk] = 0;
      }
    }
  } else {
    std::memset(ap, 0, sizeof(uint16_t) * 32 * kcp);
    for (i64 k = 0; k < kc; k++) {
      const float* src = A + (k0 + k) * lda + i0;
      uint16_t* d = ap + (k / 32 * 2) * 16 * 32 + (k % 32);
      for (i64 r = 0; r < rows; r++) d[((r >> 4) * 16 + (r & 15)) * 32] = to_bf16(src[r]);
    }
  }
}

// op(B) columns [j0, j0 + 32) x K range [k0, k0 + kc) -> bp[kchunk][coltile][16 pairs][16 cols][2] bf16 (VNNI).
static void pack_b_bf16_scalar(uint16_t* bp, const float* B, i64 ldb, bool transB, i64 j0, i64 N, i64 k0, i64 kc, i64 kcp) {
  const i64 cols = std::min<i64>(32, N - j0);
  if (cols < 32 || kc < kcp) std::memset(bp, 0, sizeof(uint16_t) * 32 * kcp);
  if (!transB) {
    for (i64 k = 0; k < kc; k++) {
      const float* src = B + (k0 + k) * ldb + j0;
      uint16_t* d = bp + (k / 32 * 2) * 16 * 32 + ((k % 32) >> 1) * 32 + (k & 1);
      for (i64 c = 0; c < cols; c++) d[(c >> 4) * 16 * 32 + (c & 15) * 2] = to_bf16(src[c]);
    }
  } else {
    for (i64 c = 0; c < cols; c++) {
      const float* src = B + (j0 + c) * ldb + k0;
      uint16_t* d = bp + (c >> 4) * 16 * 32 + (c & 15) * 2;
      for (i64 k = 0; k < kc; k++) d[(k / 32 * 2) * 16 * 32 + ((k % 32) >> 1) * 32 + (k & 1)] = to_bf16(src[k]);
    }
  }
}

// Vectorised packing (same layout and rounding as the scalar versions above, which handle edges).
MM_AVX512BF16 static void pack_a_bf16(uint16_t* ap, const float* A, i64 lda, bool transA, i64 i0, i64 M, i64 k0, i64 kc, i64 kcp) {
  if (M - i0 < 32 || kc != kcp) {
    pack_a_bf16_scalar(ap, A, lda, transA, i0, M, k0, kc, kcp);
    return;
  }
  if (!transA) {
    for (i64 r = 0; r < 32; r++) {
      const float* src = A + (i0 + r) * lda + k0;
      for (i64 q = 0; q < kc; q += 32) _mm512_storeu_si512(ap + ((q / 32 * 2 + (r >> 4)) * 16 + (r & 15)) * 32, cvt32(src + q));
    }
  } else {
    __m512i rows[16];
    for (i64 q = 0; q < kc; q += 32) {
      for (int rt = 0; rt < 2; rt++) {
        for (int pr = 0; pr < 16; pr++) {
          const float* a0 = A + (k0 + q + 2 * pr) * lda + i0 + rt * 16;
          rows[pr] = pairs16(a0, a0 + lda);
        }
        transpose16(rows);  // rows[i] = the 16 k-pairs of row i
        uint16_t* d = ap + ((q / 32 * 2 + rt) * 16) * 32;
        for (int i = 0; i < 16; i++) _mm512_storeu_si512(d + i * 32, rows[i]);
      }
    }
  }
}

MM_AVX512BF16 static void pack_b_bf16(uint16_t* bp, const float* B, i64 ldb, bool transB, i64 j0, i64 N, i64 k0, i64 kc, i64 kcp) {
  if (N - j0 < 32 || kc != kcp) {
    pack_b_bf16_scalar(bp, B, ldb, transB, j0, N, k0, kc, kcp);
    return;
  }
  if (!transB) {
    for (i64 q = 0; q < kc; q += 32)
      for (int ct = 0; ct < 2; ct++)
        for (int pr = 0; pr < 16; pr++) {
          const float* b0 = B + (k0 + q + 2 * pr) * ldb + j0 + ct * 16;
          _mm512_storeu_si512(bp + ((q / 32 * 2 + ct) * 16 + pr) * 32, pairs16(b0, b0 + ldb));
        }
  } else {
    __m512i rows[16];
    for (i64 q = 0; q < kc; q += 32)
      for (int ct = 0; ct < 2; ct++) {
        for (int n = 0; n < 16; n++) rows[n] = cvt32(B + (j0 + ct * 16 + n) * ldb + k0 + q);  // 16 k-pairs of column n
        transpose16(rows);  // rows[pr] = pair pr of the 16 columns
        uint16_t* d = bp + ((q / 32 * 2 + ct) * 16) * 32;
        for (int pr = 0; pr < 16; pr++) _mm512_storeu_si512(d + pr * 32, rows[pr]);
      }
  }
}

// C[32 x 32] (+)= A_block (32 x Kp) B_block (Kp x 32), both packed.
MM_AMX static void tile_block(const uint16_t* ap, const uint16_t* bp, i64 kchunks, float* c, i64 ldc, bool acc) {
  const i64 stride = ldc * 4;
  if (acc) {
    _tile_loadd(0, c, stride);
    _tile_loadd(1, c + 16, stride);
    _tile_loadd(2, c + 16 * ldc, stride);
    _tile_loadd(3, c + 16 * ldc + 16, stride);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  for (i64 k = 0; k < kchunks; k++) {
    _tile_loadd(4, ap, 64);
    _tile_loadd(5, ap + 16 * 32, 64);
    _tile_loadd(6, bp, 64);
    _tile_loadd(7, bp + 16 * 32, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
    ap += 2 * 16 * 32;
    bp += 2 * 16 * 32;
  }
  _tile_stored(0, c, stride);
  _tile_stored(1, c + 16, stride);
  _tile_stored(2, c + 16 * ldc, stride);
  _tile_stored(3, c + 16 * ldc + 16, stride);
}

MM_AMX static void release_tiles() { _tile_release(); }

// Loops: K in blocks of KC (the packed B panel of one K block stays in L2), rows of C in groups of
// up to 4 x 32 handed out dynamically, columns in 512-wide chunks (A block reused from L1/L2).
void sgemm_amx(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                bool accumulate, int nthreads) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || !amx_available()) {
    sgemm(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
    return;
  }
  const i64 KC = 512, NCH = 16;  // NCH column blocks (512 columns) per chunk
  const i64 Kp = (K + 31) / 32 * 32, nb = (N + 31) / 32, mb = (M + 31) / 32, nkb = (K + KC - 1) / KC;
  const i64 Np = nb * 32;
  uint16_t* Bp = (uint16_t*)scratch(5, (size_t)(Np * Kp + 1) / 2);
  if ((double)M * N * K < 4.0e6) nthreads = 1;
  const i64 group = std::min<i64>(4, std::max<i64>(1, mb / (3 * std::max(1, nthreads))));
  const i64 ngroups = (mb + group - 1) / group;
  auto bblock = [&](i64 kb, i64 cb) {
    const i64 k0 = kb * KC, kcp = (std::min(KC, K - k0) + 31) / 32 * 32;
    return Bp + k0 * Np + cb * 32 * kcp;
  };
  parallel_tasks(nkb * nb, nthreads, [&](i64 t) {
    const i64 kb = t / nb, cb = t % nb, k0 = kb * KC, kc = std::min(KC, K - k0);
    pack_b_bf16(bblock(kb, cb), B, ldb, transB, cb * 32, N, k0, kc, (kc + 31) / 32 * 32);
  });
  parallel_tasks(ngroups, nthreads, [&](i64 g) {
    configure_tiles();
    uint16_t* Ap = (uint16_t*)scratch(1, (size_t)group * 32 * KC / 2 + 16);
    alignas(64) float tmp[32 * 32];
    const i64 rb0 = g * group, rb1 = std::min(mb, rb0 + group);
    for (i64 kb = 0; kb < nkb; kb++) {
      const i64 k0 = kb * KC, kc = std::min(KC, K - k0), kcp = (kc + 31) / 32 * 32;
      const bool acc = accumulate || kb > 0;
      for (i64 rb = rb0; rb < rb1; rb++) pack_a_bf16(Ap + (rb - rb0) * 32 * kcp, A, lda, transA, rb * 32, M, k0, kc, kcp);
      for (i64 cb0 = 0; cb0 < nb; cb0 += NCH) {
        for (i64 rb = rb0; rb < rb1; rb++) {
          const i64 i0 = rb * 32, rows = std::min<i64>(32, M - i0);
          const uint16_t* ap = Ap + (rb - rb0) * 32 * kcp;
          for (i64 cb = cb0; cb < std::min(nb, cb0 + NCH); cb++) {
            const i64 j0 = cb * 32, cols = std::min<i64>(32, N - j0);
            float* c = C + i0 * ldc + j0;
            if (rows == 32 && cols == 32) {
              tile_block(ap, bblock(kb, cb), kcp / 32, c, ldc, acc);
            } else {
              for (i64 r = 0; r < 32; r++)
                for (i64 q = 0; q < 32; q++) tmp[r * 32 + q] = (acc && r < rows && q < cols) ? c[r * ldc + q] : 0.f;
              tile_block(ap, bblock(kb, cb), kcp / 32, tmp, 32, true);
              for (i64 r = 0; r < rows; r++)
                for (i64 q = 0; q < cols; q++) c[r * ldc + q] = tmp[r * 32 + q];
            }
          }
        }
      }
    }
    release_tiles();
  });
}

#else
bool amx_available() { return false; }
void sgemm_amx(bool transA, bool transB, i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                bool accumulate, int nthreads) {
  sgemm(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nthreads);
}
#endif

}  // namespace mm
