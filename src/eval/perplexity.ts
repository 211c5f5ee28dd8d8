// Perplexity and bits per byte of a text corpus. Each document starts with BOS (EOS where the
// tokenizer has no BOS, as lm-eval's rolling log-likelihood starts from its prefix token), so every
// token of the text is predicted. Documents longer than the window are scored with a sliding window:
// window w feeds ids[w*S, w*S + L) and scores the predictions the window before it did not make, so
// every token is predicted exactly once, with at least L - S tokens of context after the first window
// (Hugging Face's perplexity recipe, without its gap of one token per window).
//
//   loss = nats / tokens        ppl = exp(loss)        bits per byte = nats / (ln 2 * UTF-8 bytes)
//
// Bits per byte does not depend on the tokenizer, so models with different vocabularies compare.
import { noGrad } from '../core/autograd.js';
import { scope } from '../core/scope.js';
import { tensor } from '../core/tensor.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import * as ops from '../ops/index.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { UserError } from '../core/errors.js';

export interface PerplexityOptions {
  /** Window length L in tokens (default: the model's max_position_embeddings). */
  maxSeqLen?: number;
  /** Window step S, 1 <= S <= L (default L / 2). */
  stride?: number;
  /** Windows per forward pass (default 8). */
  batchSize?: number;
  onProgress?: (windowsDone: number, windows: number, tokens: number) => void;
}

export interface PerplexityResult {
  documents: number;
  /** Tokens predicted (every text token). */
  tokens: number;
  /** UTF-8 bytes of the texts. */
  bytes: number;
  /** Total negative log-likelihood in nats. */
  nats: number;
  loss: number;
  perplexity: number;
  bits_per_byte: number;
  max_seq_len: number;
  stride: number;
}

/** The three figures from totals (exported for tests of the arithmetic). */
export function perplexityFigures(nats: number, tokens: number, bytes: number): { loss: number; perplexity: number; bits_per_byte: number } {
  const loss = tokens > 0 ? nats / tokens : NaN;
  return { loss, perplexity: Math.exp(loss), bits_per_byte: bytes > 0 ? nats / (Math.LN2 * bytes) : NaN };
}

interface Window {
  ids: number[];
  /** Targets (B, T) layout: the token predicted at each position, -100 where not scored. */
  targets: number[];
}

/**
 * The windows of one document's ids (prefix token first). Input position p predicts ids[p + 1], so
 * the inputs are positions 0..n-2. Window w feeds positions [w * stride, w * stride + maxLen) and
 * scores those the previous window did not reach: every token after the prefix is predicted once.
 */
export function slidingWindows(ids: readonly number[], maxLen: number, stride: number): Window[] {
  const out: Window[] = [];
  const inputs = ids.length - 1;
  let reached = 0; // input positions [0, reached) already scored
  for (let start = 0; reached < inputs; start += stride) {
    const end = Math.min(start + maxLen, inputs);
    out.push({
      ids: ids.slice(start, end),
      targets: ids.slice(start, end).map((_, t) => (start + t >= reached ? ids[start + t + 1] : -100)),
    });
    reached = end;
  }
  return out;
}

export function evaluatePerplexity(model: MiniMindForCausalLM, tokenizer: Tokenizer, texts: readonly string[], opts: PerplexityOptions = {}): PerplexityResult {
  const maxLen = opts.maxSeqLen ?? model.config.max_position_embeddings;
  if (!Number.isInteger(maxLen) || maxLen < 2 || maxLen > model.config.max_position_embeddings) {
    throw new UserError(`max_seq_len must be an integer in 2..${model.config.max_position_embeddings} (the model's max_position_embeddings), got ${maxLen}`);
  }
  const stride = opts.stride ?? Math.max(1, Math.floor(maxLen / 2));
  if (!Number.isInteger(stride) || stride < 1 || stride > maxLen) throw new UserError(`stride must be an integer in 1..${maxLen} (the window), got ${stride}`);
  const prefix = tokenizer.bosTokenId ?? tokenizer.eosTokenId;
  if (prefix === undefined) throw new UserError('the tokenizer has neither a BOS nor an EOS token to start each document with');
  const encoder = new TextEncoder();
  let bytes = 0;
  let tokens = 0;
  const windows: Window[] = [];
  for (const text of texts) {
    const ids = [prefix, ...tokenizer.encode(text)];
    bytes += encoder.encode(text).length;
    tokens += ids.length - 1;
    windows.push(...slidingWindows(ids, maxLen, stride));
  }
  // Longest first, right-padded: padding sits after every scored position of a row (causal attention).
  windows.sort((a, b) => b.ids.length - a.ids.length);
  const B = Math.max(1, Math.floor(opts.batchSize ?? 8));
  let nats = 0;
  for (let s = 0; s < windows.length; s += B) {
    const batch = windows.slice(s, s + B);
    const T = batch[0].ids.length;
    const ids = new Int32Array(batch.length * T);
    const targets = new Int32Array(batch.length * T).fill(-100);
    let batchTokens = 0;
    batch.forEach((w, b) => {
      ids.set(w.ids, b * T);
      targets.set(w.targets, b * T);
      batchTokens += w.ids.length;
    });
    const lp = noGrad(() =>
      scope(() => {
        const be = model.outputWeight.backend;
        const { logits } = model.forward(tensor(ids, [batch.length, T], 'int32', be));
        return ops.logprobGather(logits, tensor(targets, [batch.length, T], 'int32', be)).toArray();
      }),
    );
    for (let i = 0; i < lp.length; i++) if (targets[i] !== -100) nats -= lp[i];
    opts.onProgress?.(Math.min(s + B, windows.length), windows.length, batchTokens);
  }
  return { documents: texts.length, tokens, bytes, nats, ...perplexityFigures(nats, tokens, bytes), max_seq_len: maxLen, stride };
}
