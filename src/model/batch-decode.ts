// Ragged batched forward: one step feeds tokens to several sequences that sit at different
// positions, each with its own KV cache (batch 1) — one new token each when decoding, a whole
// prompt for a sequence that joins. Everything that does not look at positions — embedding,
// norms, the q/k/v/o projections, the MLP or MoE, the output head — runs once on the (N, 1, d)
// batch of all N tokens, so the weights are read once per step instead of once per sequence
// (decode is bound by reading weights). RoPE runs batched too: the rows of the RoPE tables at each
// token's position are gathered once per step, and the batch is rotated as one sequence of N
// positions whose table rows are those. Attention depends on a sequence's cache: the one-token
// segments at the end of the list (the running sequences of a continuous batch) go through one
// backend.attentionDecode call per layer, which writes every new k/v row into its own cache and
// attends all of them; the other segments (prompts) run per sequence with the kernel a single
// sequence uses (so do all segments on a backend without attentionDecode). The layers are the
// model's own decoder blocks (DecoderLayer.forward); only their AttentionContext is ragged.
//
//   const caches = prompts.map(() => model.newCache(1));
//   let logits = forwardRagged(model, prompts.map((ids, i) => ({ ids, cache: caches[i] })));  // B x V
//   const step = decodeStep(model, nextTokens, caches);                                       // B x V
//
// Sequences may join (their prompt is a segment of the next step) or leave (dispose the cache)
// between any two steps: that is continuous batching (batch-generate.ts). MiniMind has no position_ids, so the
// alternative, one padded rectangle, would shift the positions of shorter prompts (docs/minimind.md 1.4).
import { empty, tensor, type Tensor } from '../core/tensor.js';
import { scope } from '../core/scope.js';
import { noGrad } from '../core/autograd.js';
import * as ops from '../ops/index.js';
import type { KVCache } from './kv-cache.js';
import type { FBuf } from '../backends/backend.js';
import type { MiniMindForCausalLM } from './model.js';
import type { AttentionContext, RopeTensors } from './attention.js';

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
  if (caches.length !== tokens.length) throw new Error(`decodeStep: ${tokens.length} tokens for ${caches.length} caches`);
  return forwardRagged(model, tokens.map((id, b) => ({ ids: [id], cache: caches[b] })));
}

/** Tokens to append to one sequence: a whole prompt, a chunk of one, or the next token. */
export interface Segment {
  ids: readonly number[];
  cache: KVCache;
}

/**
 * One forward over segments of different lengths at different positions: segment s appends its
 * T_s tokens to its own cache (batch 1) from position cache.length on. All N = sum T_s tokens go
 * through the position-free work as one (N, 1, d) batch; RoPE uses each token's own position;
 * attention runs per segment, causal within it, over its cache. Returns the logits of each
 * segment's last token: S rows of V floats. So a step can prefill new prompts and decode running
 * sequences at once, reading the weights once for all of them.
 */
export function forwardRagged(model: MiniMindForCausalLM, segments: readonly Segment[]): Float32Array {
  const S = segments.length;
  if (S === 0) return new Float32Array(0);
  if (new Set(segments.map((g) => g.cache)).size !== S) throw new Error('batch decoding: a cache appears twice (each sequence needs its own)');
  const offsets: number[] = [];
  let N = 0;
  for (const g of segments) {
    if (g.ids.length === 0) throw new Error('batch decoding: a segment has no tokens');
    checkCache(model, g.cache);
    g.cache.reserve(g.cache.length + g.ids.length); // throws past max_position_embeddings
    offsets.push(N);
    N += g.ids.length;
  }
  const tokens = new Int32Array(N);
  const positions = new Int32Array(N);
  segments.forEach((g, s) => {
    tokens.set(g.ids, offsets[s]);
    for (let t = 0; t < g.ids.length; t++) positions[offsets[s] + t] = g.cache.length + t;
  });
  let host: Float32Array | undefined;
  noGrad(() =>
    scope(() => {
      // cos/sin rows at every token's position: (N, head_dim / 2), shared by every layer
      const pos = tensor(positions, [N], 'int32');
      const rope = { cos: ops.indexSelect(model.rope.cos, pos), sin: ops.indexSelect(model.rope.sin, pos) };
      let x = model.model.embed_tokens.forward(tensor(tokens, [N, 1], 'int32')); // (N, 1, d)
      const ctx = raggedContext(model, rope, segments, offsets, N);
      model.model.layers.items.forEach((layer, l) => {
        x = scope(() => layer.forward(x, ctx, l).x);
      });
      if (N > S) {
        // only each segment's last token needs logits: (S, 1, d)
        const last = Int32Array.from(segments, (g, s) => offsets[s] + g.ids.length - 1);
        const d = model.config.hidden_size;
        x = ops.indexSelect(x.reshape([N, d]), tensor(last, [S], 'int32')).reshape([S, 1, d]);
      }
      const logits = ops.linear(model.model.norm.forward(x), model.outputWeight); // (S, 1, V)
      host = hostFloats(logits);
    }),
  );
  for (const g of segments) g.cache.length += g.ids.length;
  return host!;
}

// The ragged AttentionContext: the N tokens of the step, (N, 1, ...) as a batch of N one-token
// rows, each at its own position and attending over its own sequence's cache. RoPE rotates the
// batch seen as one sequence of N positions whose table rows are the tokens' own (rope: the rows
// gathered once per step). Attention goes segment by segment for prompts (the kernel a single
// sequence uses) and, for the one-token segments at the end of the list, through one
// backend.attentionDecode call that writes every new k/v row into its own cache.
function raggedContext(model: MiniMindForCausalLM, rope: RopeTensors, segments: readonly Segment[], offsets: number[], N: number): AttentionContext {
  const interleaved = model.config.rope_interleaved ?? false;
  // Rows [from, from + n) of a (N, 1, h, hd) batch (a slice copy unless it is the whole batch).
  const rows = (t: Tensor, from: number, n: number) => (n === N ? t : ops.slice(t, 0, from, n));
  return {
    rope: (x) => {
      const [, , h, hd] = x.shape;
      return ops.rope(x.reshape([1, N, h, hd]), rope.cos, rope.sin, 0, interleaved).reshape([N, 1, h, hd]);
    },
    attend: (q, k, v, l) => {
      const [, , H, hd] = q.shape;
      const KVH = k.shape[2];
      const be = q.backend;
      // The trailing one-token segments [d0, S): one attentionDecode call for all of them.
      let d0 = segments.length;
      if (be.attentionDecode) while (d0 > 0 && segments[d0 - 1].ids.length === 1) d0--;
      const outs: Tensor[] = [];
      for (let s = 0; s < d0; s++) {
        const g = segments[s];
        const T = g.ids.length;
        g.cache.write(l, rows(k, offsets[s], T).reshape([1, T, KVH, hd]), rows(v, offsets[s], T).reshape([1, T, KVH, hd]));
        outs.push(ops.attention(rows(q, offsets[s], T).reshape([1, T, H, hd]), g.cache.k[l], g.cache.v[l], g.cache.length + T).reshape([T, 1, H, hd]));
      }
      if (d0 < segments.length) {
        const dec = segments.slice(d0);
        const [from, n] = [d0 === 0 ? 0 : offsets[d0], dec.length];
        const out = empty([n, 1, H, hd], 'float32', be);
        const pos = Int32Array.from(dec, (g) => g.cache.length);
        be.attentionDecode!(out.buf as FBuf, rows(q, from, n).buf as FBuf, rows(k, from, n).buf as FBuf, rows(v, from, n).buf as FBuf,
          dec.map((g) => g.cache.k[l].buf as FBuf), dec.map((g) => g.cache.v[l].buf as FBuf), pos, n, H, KVH, hd, 1 / Math.sqrt(hd));
        outs.push(out);
      }
      return outs.length === 1 ? outs[0] : ops.concat(outs, 0);
    },
  };
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
