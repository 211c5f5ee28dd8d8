// The fused batch-1 decode step of a dense MiniMind model (decode.cu): one token in, the next
// token's logits out, as ~6 kernels per layer recorded once into a CUDA graph and replayed per
// token. Generic decoding costs ~140 separate kernel launches through N-API per token; this is the
// "CUDA graphs or an equally fast fused decode step" of issue 9. Weights, RoPE tables and the KV
// cache are the model's own device buffers (read in place, never copied); the token and its
// position live in a small device buffer the host rewrites before each replay, so one graph serves
// every position.
#pragma once
#include <vector>

namespace mm {

struct DecodeLayer {
  const float *input_norm, *wq, *wk, *wv, *wo, *q_norm, *k_norm, *post_norm, *w_gate, *w_up, *w_down;
  float *k_cache, *v_cache;  // (capacity, kv_heads, head_dim): batch-1 KV cache of this layer
};

struct DecodeSpec {
  int layers, hidden, heads, kv_heads, head_dim, ffn, vocab, capacity;
  bool interleaved;  // RoPE pairs (2i, 2i+1) as MiniMind v1, else (i, i + head_dim/2)
  float eps;
  const float *embed, *final_norm, *lm_head, *cos, *sin;  // cos/sin: (max_positions, head_dim/2)
  std::vector<DecodeLayer> layer;
};

struct Decoder;
/** Checks the shapes, allocates the scratch buffers and records the graph (MINIMIND_CUDA_GRAPHS=0: plain launches). */
Decoder* decoder_create(const DecodeSpec& spec);
/** Feeds `token` at position `pos` (< capacity): writes its k/v into the cache, the logits (vocab floats) to `logits`. */
void decoder_step(Decoder* d, int token, int pos, float* logits);
void decoder_destroy(Decoder* d);
int decoder_vocab(const Decoder* d);

/** Backend.attentionDecode: S sequences' new k/v rows (S, KVH*D) written into their caches at pos[s], then
 *  each sequence's query (H, D) attends its positions 0..pos[s]. kc/vc/pos are host arrays of S entries. */
void attention_decode(float* out, const float* q, const float* k, const float* v, float* const* kc, float* const* vc, const int* pos, int S, int H, int KVH, int D, float scale);

}  // namespace mm
