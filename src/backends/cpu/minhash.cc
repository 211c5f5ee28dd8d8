// MinHash signatures for `minimind data dedup` (src/corpus/minhash.ts is the definition; this is
// its fast path, checked bit for bit against it by test/corpus/minhash-native.test.ts):
//   units     = the words of a text joined by single spaces, or its characters (UTF-8)
//   shingle_k = xxh64(bytes of units k .. k+n-1 with the spaces between them), seed 0
//   sig_h     = min over k of ((shingle_k * a_h + b_h) mod 2^64) mod (2^61 - 1)
// In JavaScript every 64-bit product is emulated with doubles (about 20 operations); here it is
// one multiply, and the loop over the hashes vectorises (AVX-512DQ has a 64-bit multiply; on
// AVX2 the compiler builds it from 32-bit ones). Each ISA level has its own copy of the loop,
// picked by current_isa(), so MINIMIND_ISA can run every one of them.
#include "kernels.h"
#include <vector>

namespace mm {

namespace {

// ---- xxHash64 (Yann Collet's reference algorithm, little-endian reads) ----
constexpr uint64_t P1 = 11400714785074694791ull, P2 = 14029467366897019727ull, P3 = 1609587929392839161ull,
                   P4 = 9650029242287828579ull, P5 = 2870177450012600261ull;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t read64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t read32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t xxh_round(uint64_t acc, uint64_t input) { return rotl(acc + input * P2, 31) * P1; }
inline uint64_t merge_round(uint64_t acc, uint64_t val) { return (acc ^ xxh_round(0, val)) * P1 + P4; }

uint64_t xxh64(const uint8_t* p, size_t len, uint64_t seed) {
  const uint8_t* end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
    for (const uint8_t* limit = end - 32; p <= limit; p += 32) {
      v1 = xxh_round(v1, read64(p));
      v2 = xxh_round(v2, read64(p + 8));
      v3 = xxh_round(v3, read64(p + 16));
      v4 = xxh_round(v4, read64(p + 24));
    }
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = merge_round(merge_round(merge_round(merge_round(h, v1), v2), v3), v4);
  } else {
    h = seed + P5;
  }
  h += (uint64_t)len;
  for (; p + 8 <= end; p += 8) h = rotl(h ^ xxh_round(0, read64(p)), 27) * P1 + P4;
  if (p + 4 <= end) {
    h = rotl(h ^ ((uint64_t)read32(p) * P1), 23) * P2 + P3;
    p += 4;
  }
  for (; p < end; p++) h = rotl(h ^ ((uint64_t)*p * P5), 11) * P1;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

constexpr uint64_t MERSENNE61 = (1ull << 61) - 1;

// One shingle into the running minima of H hashes. (x >> 61) + (x & P) is x mod P up to one
// subtraction (x < 2^64, so the sum is below 2P); the results fit in 61 bits, so they compare as
// signed integers, which AVX2 has (it has no unsigned 64-bit compare).
__attribute__((always_inline)) inline void fold_shingle(int64_t* mins, uint64_t s, const uint64_t* a, const uint64_t* b, i64 H) {
  for (i64 h = 0; h < H; h++) {
    const uint64_t x = s * a[h] + b[h];
    uint64_t r = (x >> 61) + (x & MERSENNE61);
    r = r >= MERSENNE61 ? r - MERSENNE61 : r;
    mins[h] = std::min(mins[h], (int64_t)r);
  }
}

__attribute__((always_inline)) inline void fold_all(int64_t* mins, const uint64_t* sh, i64 count, const uint64_t* a, const uint64_t* b, i64 H) {
  for (i64 k = 0; k < count; k++) fold_shingle(mins, sh[k], a, b, H);
}

#ifdef MM_X86_INTRIN
__attribute__((target("avx512f,avx512dq,avx512vl,avx2"))) void fold_avx512(int64_t* mins, const uint64_t* sh, i64 count, const uint64_t* a, const uint64_t* b, i64 H) {
  fold_all(mins, sh, count, a, b, H);
}
__attribute__((target("avx2"))) void fold_avx2(int64_t* mins, const uint64_t* sh, i64 count, const uint64_t* a, const uint64_t* b, i64 H) {
  fold_all(mins, sh, count, a, b, H);
}
#endif
void fold_generic(int64_t* mins, const uint64_t* sh, i64 count, const uint64_t* a, const uint64_t* b, i64 H) { fold_all(mins, sh, count, a, b, H); }

}  // namespace

bool minhash_signature(uint32_t* sig, const uint8_t* bytes, i64 nbytes, bool by_char, i64 n, const uint32_t* a_hi, const uint32_t* a_lo,
                       const uint32_t* b_hi, const uint32_t* b_lo, i64 H) {
  // the per-thread buffers are reused from row to row: rows are many and small
  thread_local std::vector<i64> starts, ends;
  thread_local std::vector<uint64_t> sh, a, b;
  thread_local std::vector<int64_t> mins;
  // units: words between spaces, or characters (each UTF-8 sequence starts with a non-continuation byte)
  starts.clear();
  ends.clear();
  for (i64 i = 0; i < nbytes;) {
    if (!by_char && bytes[i] == ' ') {
      i++;
      continue;
    }
    starts.push_back(i);
    i++;
    if (by_char)
      while (i < nbytes && (bytes[i] & 0xC0) == 0x80) i++;
    else
      while (i < nbytes && bytes[i] != ' ') i++;
    ends.push_back(i);
  }
  const i64 count = (i64)starts.size() - n + 1;
  if (count <= 0) return false;
  // a shingle's bytes run from its first unit's start to its last unit's end: the units joined as JS joins them
  sh.resize(count);
  for (i64 k = 0; k < count; k++) sh[k] = xxh64(bytes + starts[k], (size_t)(ends[k + n - 1] - starts[k]), 0);
  a.resize(H);
  b.resize(H);
  mins.assign(H, INT64_MAX);
  for (i64 h = 0; h < H; h++) {
    a[h] = (uint64_t)a_hi[h] << 32 | a_lo[h];
    b[h] = (uint64_t)b_hi[h] << 32 | b_lo[h];
  }
  const Isa isa = current_isa();
#ifdef MM_X86_INTRIN
  if (isa >= ISA_AVX512) fold_avx512(mins.data(), sh.data(), count, a.data(), b.data(), H);
  else if (isa >= ISA_AVX2) fold_avx2(mins.data(), sh.data(), count, a.data(), b.data(), H);
  else
#endif
    fold_generic(mins.data(), sh.data(), count, a.data(), b.data(), H);
  (void)isa;
  for (i64 h = 0; h < H; h++) {
    sig[2 * h] = (uint32_t)((uint64_t)mins[h] >> 32);
    sig[2 * h + 1] = (uint32_t)mins[h];
  }
  return true;
}

}  // namespace mm
