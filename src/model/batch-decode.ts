// Ragged batched decoding: one step feeds one new token to each of B sequences that sit at
// different positions, each with its own KV cache (batch 1). Everything that does not look at
// positions — embedding, norms, the q/k/v/o projections, the MLP or MoE, the output head — runs
// once on the (B, 1, d) batch, so the weights are read once per step instead of once per
// sequence (decode is bound by reading weights). RoPE runs batched too: the rows of the RoPE
// tables at each sequence's position are gathered once per step, and the (B, 1, H, D) batch is
// rotated as one sequence of B positions whose table rows are those. Attention depends on a row's
// cache, so it runs per row with the kernel a single sequence uses.
//
//   const caches = prompts.map(() => model.newCache(1));
//   let logits = prompts.map((p, i) => prefill(model, p, caches[i]));   // V floats each
//   const step = decodeStep(model, nextTokens, caches);                   // B x V floats
//
// Sequences may join (prefill a new cache) or leave (dispose its cache) between any two steps:
// that is continuous batching (batch-generate.ts). MiniMind has no position_ids, so the
// alternative, one padded rectangle, would shift the positions of shorter prompts (spec 1.4).
import { tensor, type Tensor } from '../core/tensor.js';
import { scope } from '../core/scope.js';
import { noGrad } from '../core/autograd.js';
import * as ops from '../ops/index.js';
import type { KVCache } from './kv-cache.js';
import type { DecoderLayer, MiniMindForCausalLM } from './model.js';
import type { RopeTensors } from './attention.js';
import { MoEFeedForward } from './moe.js';

/**
 * Runs a prompt (or the next chunk of one) through the model into `cache` (batch 1), appending
 * its positions; returns the logits of its last position (V floats, on the host).
 */
export function prefill(model: MiniMindForCausalLM, ids: readonly number[], cache: KVCache): Float32Array {
  if (ids.length === 0) throw new Error('prefill: the prompt is empty (give at least one token, e.g. BOS)');
  checkCache(model, cache);
  let host: Float32Array | undefined;
  noGrad(() =>
    scope(() => {
      const { logits } = model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'int32'), { cache, lastOnly: true });
      host = hostFloats(logits);
    }),
  );
  return host!;
}

/**
 * One decode step for B sequences: tokens[b] is fed at position caches[b].length of sequence b,
 * whose cache it is appended to. Returns the next-token logits, B rows of V floats, row b at
 * [b V, (b + 1) V). The caches must be distinct (one per sequence) and of batch 1.
 */
export function decodeStep(model: MiniMindForCausalLM, tokens: readonly number[], caches: readonly KVCache[]): Float32Array {
  const B = tokens.length;
  if (B === 0) return new Float32Array(0);
  if (caches.length !== B) throw new Error(`decodeStep: ${B} tokens for ${caches.length} caches`);
  if (new Set(caches).size !== B) throw new Error('decodeStep: a cache appears twice (each sequence needs its own)');
  for (const c of caches) {
    checkCache(model, c);
    c.reserve(c.length + 1); // throws past max_position_embeddings
  }
  let host: Float32Array | undefined;
  noGrad(() =>
    scope(() => {
      // cos/sin rows at each sequence's position: (B, head_dim / 2), shared by every layer
      const pos = tensor(Int32Array.from(caches, (c) => c.length), [B], 'int32');
      const rope = { cos: ops.indexSelect(model.rope.cos, pos), sin: ops.indexSelect(model.rope.sin, pos) };
      let x = model.model.embed_tokens.forward(tensor(Int32Array.from(tokens), [B, 1], 'int32')); // (B, 1, d)
      model.model.layers.items.forEach((layer, l) => {
        x = scope(() => layerStep(model, layer, l, x, rope, caches));
      });
      const logits = ops.linear(model.model.norm.forward(x), model.outputWeight); // (B, 1, V)
      host = hostFloats(logits);
    }),
  );
  for (const c of caches) c.length += 1;
  return host!;
}

// One decoder layer (DecoderLayer.forward, spelled out so that attention can go row by row):
// h = x + o_proj(attn(rope(q), cache)); out = h + mlp(post_attention_layernorm(h)).
function layerStep(model: MiniMindForCausalLM, layer: DecoderLayer, l: number, x: Tensor, rope: RopeTensors, caches: readonly KVCache[]): Tensor {
  const c = model.config;
  const B = caches.length;
  const [H, KVH, hd] = [c.num_attention_heads, c.num_key_value_heads, c.head_dim];
  const attn = layer.self_attn;
  const n = layer.input_layernorm.forward(x);
  let q = attn.q_proj.forward(n).reshape([B, 1, H, hd]);
  let k = attn.k_proj.forward(n).reshape([B, 1, KVH, hd]);
  const v = attn.v_proj.forward(n).reshape([B, 1, KVH, hd]);
  if (attn.q_norm && attn.k_norm) {
    q = attn.q_norm.forward(q); // over head_dim: no position involved, so batched
    k = attn.k_norm.forward(k);
  }
  // (B, 1, H, hd) seen as (1, B, H, hd): "position" b uses table row b, sequence b's position.
  const interleaved = c.rope_interleaved ?? false;
  q = ops.rope(q.reshape([1, B, H, hd]), rope.cos, rope.sin, 0, interleaved).reshape([B, 1, H, hd]);
  k = ops.rope(k.reshape([1, B, KVH, hd]), rope.cos, rope.sin, 0, interleaved).reshape([B, 1, KVH, hd]);
  const rows: Tensor[] = [];
  for (let b = 0; b < B; b++) {
    const pos = caches[b].length;
    caches[b].write(l, B === 1 ? k : ops.slice(k, 0, b, 1), B === 1 ? v : ops.slice(v, 0, b, 1));
    rows.push(ops.attention(B === 1 ? q : ops.slice(q, 0, b, 1), caches[b].k[l], caches[b].v[l], pos + 1)); // (1, 1, H, hd)
  }
  const att = B === 1 ? rows[0] : ops.concat(rows, 0);
  const h = ops.add(x, attn.o_proj.forward(att.reshape([B, 1, H * hd])));
  const m = layer.post_attention_layernorm.forward(h);
  const y = layer.mlp instanceof MoEFeedForward ? layer.mlp.forward(m).y : layer.mlp.forward(m);
  return ops.add(h, y);
}

function checkCache(model: MiniMindForCausalLM, cache: KVCache): void {
  const c = model.config;
  if (cache.batch !== 1) throw new Error(`batch decoding: each sequence needs its own KV cache of batch 1, got batch ${cache.batch} (use model.newCache(1))`);
  if (cache.numLayers !== c.num_hidden_layers || cache.numKvHeads !== c.num_key_value_heads || cache.headDim !== c.head_dim) {
    throw new Error('batch decoding: the KV cache was made for another model configuration (use model.newCache)');
  }
}

function hostFloats(t: Tensor): Float32Array {
  const a = t.toArray();
  return a instanceof Float32Array ? a : Float32Array.from(a);
}
