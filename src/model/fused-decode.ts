// Batch-1 decoding through the backend's fused decode step, where the backend has one (CUDA: the
// whole token is one CUDA-graph replay instead of ~140 kernel launches through N-API) and the model
// is one it covers: dense (no MoE), no LoRA adapter applied unmerged, a batch-1 KV cache. Otherwise
// null, and generation takes the generic path (same numbers up to fp32 summation order).
//
//   const dec = fusedDecoder(model, cache);      // after the prompt was prefilled into `cache`
//   const logits = dec.step(nextToken);          // appends the token at cache.length
import type { FBuf, FusedDecodeSpec, FusedDecoder } from '../backends/backend.js';
import type { Tensor } from '../core/tensor.js';
import { Linear } from '../nn/index.js';
import type { KVCache } from './kv-cache.js';
import type { MiniMindForCausalLM } from './model.js';
import type { BatchOneDecoder } from './batch-generate.js';
import { process } from '../io/process.js';


/** Whether batch-1 decode steps of this model take the fused path (MINIMIND_FUSED_DECODE=0 turns it off). */
export function fusedDecodeApplies(model: MiniMindForCausalLM): boolean {
  const c = model.config;
  if (!model.outputWeight.backend.createDecoder || process.env.MINIMIND_FUSED_DECODE === '0') return false;
  if (c.head_dim > 128 || model.model.layers.items.some((l) => !l.denseWeights())) return false;
  // LoRA applied unmerged replaces a Linear's forward on the instance: its product is not W x.
  for (const [, m] of model.namedModules()) if (m instanceof Linear && Object.prototype.hasOwnProperty.call(m, 'forward')) return false;
  return true;
}

export function fusedDecoder(model: MiniMindForCausalLM, cache: KVCache): BatchOneDecoder | null {
  if (cache.batch !== 1 || !fusedDecodeApplies(model)) return null;
  const c = model.config;
  const be = model.outputWeight.backend;
  const logits = new Float32Array(c.vocab_size);
  let dec: FusedDecoder | null = null;
  let bound: Tensor | null = null; // the cache buffer the decoder was made over (growth replaces it)
  const make = (): FusedDecoder => {
    const f = (t: Tensor) => t.buf as FBuf;
    bound = cache.k[0];
    return be.createDecoder!({
      hidden: c.hidden_size,
      heads: c.num_attention_heads,
      kvHeads: c.num_key_value_heads,
      headDim: c.head_dim,
      ffn: c.intermediate_size,
      vocab: c.vocab_size,
      capacity: cache.capacity,
      interleaved: c.rope_interleaved ?? false,
      eps: c.rms_norm_eps,
      embed: f(model.model.embed_tokens.weight),
      finalNorm: f(model.model.norm.weight),
      lmHead: f(model.outputWeight),
      cos: f(model.rope.cos),
      sin: f(model.rope.sin),
      // Each layer's weights as the block itself names them (DecoderLayer.denseWeights; dense: checked above).
      layers: model.model.layers.items.map((layer, l) => {
        const w = layer.denseWeights()!;
        const bufs = Object.fromEntries(Object.entries(w).map(([k, t]) => [k, t && f(t)])) as FusedDecodeSpec['layers'][number];
        return { ...bufs, kCache: f(cache.k[l]), vCache: f(cache.v[l]) };
      }),
    });
  };
  return {
    step(token: number): Float32Array {
      cache.reserve(cache.length + 1); // may grow (reallocate) the cache: then the decoder is made again
      if (!dec || bound !== cache.k[0]) {
        dec?.dispose();
        dec = make();
      }
      dec.step(token, cache.length, logits);
      cache.length += 1;
      return logits;
    },
    dispose(): void {
      dec?.dispose();
      dec = null;
    },
  };
}
