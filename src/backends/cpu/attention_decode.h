// One decode step of attention for S sequences with their own KV caches (attention_decode.cc).
#pragma once
#include "common.h"

namespace mm {
// q/out (S, H, D), k/v (S, KVH, D): the new rows; kc[s]/vc[s]: sequence s's caches (capacity x KVH x D),
// written at pos[s] and attended over positions 0 .. pos[s].
void attention_decode(float* out, const float* q, const float* k, const float* v, float* const* kc, float* const* vc, const int32_t* pos, i64 S, i64 H, i64 KVH, i64 D,
                      float scale);
}  // namespace mm
