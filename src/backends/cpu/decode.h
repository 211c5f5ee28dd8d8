// A fused batch-1 decode step of a dense MiniMind model on the CPU (decode.cc): the whole token in
// one native call, the way src/backends/cuda/decode.cu does it on the GPU. Buffers are the model's
// own (weights, their packed bf16 / q8 copies, KV caches); the caller keeps them alive.
#pragma once
#include <vector>
#include "common.h"

namespace mm {

// One weight matrix (N, K), row-major: fp32, or its packed copy (bf16 bits, or Q8_0: codes offset
// by 128 + one fp16 scale per 32 inputs) as the backend keeps it (src/backends/cpu/index.ts).
struct DecodeWeight {
  enum Format { F32 = 0, BF16 = 1, Q8 = 2 } fmt = F32;
  const float* f = nullptr;
  const uint16_t* b = nullptr;
  const uint8_t* q = nullptr;
  const uint16_t* s = nullptr;  // q8: fp16 scales
  i64 N = 0, K = 0;
};

struct DecodeLayer {
  const float* input_norm = nullptr;
  const float* q_norm = nullptr;  // QK-norm (minimind-3), or null
  const float* k_norm = nullptr;
  const float* post_norm = nullptr;
  DecodeWeight wq, wk, wv, wo, gate, up, down;
  float* k_cache = nullptr;  // (capacity, KVH, D)
  float* v_cache = nullptr;
};

struct DecodeModel {
  i64 hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0, vocab = 0, capacity = 0;
  i64 rope_positions = 0;  // rows of the cos / sin tables
  bool interleaved = false;
  float eps = 1e-5f;
  const float* embed = nullptr;  // (vocab, hidden)
  const float* final_norm = nullptr;
  const float* cos = nullptr;  // (rope_positions, head_dim / 2)
  const float* sin = nullptr;
  DecodeWeight lm_head;
  std::vector<DecodeLayer> layers;
};

class Decoder {
 public:
  explicit Decoder(DecodeModel m);
  // Feeds `token` at position `pos` (< capacity): writes its k / v rows into every layer's cache,
  // attends over positions 0 .. pos, and writes the next-token logits (vocab floats).
  void step(int32_t token, i64 pos, float* logits);
  const DecodeModel& model() const { return m_; }

 private:
  DecodeModel m_;
  std::vector<float> work_;
  float *x_, *xn_, *q_, *k_, *v_, *qr_, *kr_, *att_, *lse_, *rstd_, *gate_, *up_, *act_;
};

}  // namespace mm
