// OpenAI's chat `logprobs`: for each generated token, its text, UTF-8 bytes and log-probability,
// and the top_logprobs most likely alternatives at that position. The log-probabilities are those
// of the model's own next-token distribution (softmax of the raw logits: no temperature, top-k/p
// or penalties), as vLLM's default and what the engine records for every token.
//
// A byte-level token may be part of a character (a CJK character is often two or three tokens);
// its `token` string then cannot be its text, and OpenAI's API writes it as "bytes:" and a \xNN
// escape per byte (e.g. "bytes:\\xe4\\xbd"). `bytes` always holds the exact bytes, so joining them
// over the tokens gives the answer's UTF-8.
import type { TokenLogprob } from '../model/batch-generate.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}

export interface ContentLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The `token` string of a token's bytes: its text when they are whole UTF-8, else "bytes:\xNN...". */
export function tokenString(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return 'bytes:' + Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  }
}

function entry(tok: Tokenizer, t: TokenLogprob): TopLogprob {
  const b = tok.tokenBytesOf(t.id);
  return { token: b ? tokenString(b) : '', logprob: t.logprob, bytes: b ? Array.from(b) : null };
}

/** One `logprobs.content` entry: the generated token and its alternatives ([] when none were asked for). */
export function contentLogprob(tok: Tokenizer, id: number, logprob: number, top: readonly TokenLogprob[] = []): ContentLogprob {
  return { ...entry(tok, { id, logprob }), top_logprobs: top.map((t) => entry(tok, t)) };
}
