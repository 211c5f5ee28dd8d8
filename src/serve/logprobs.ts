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

/** The legacy /v1/completions `logprobs` object: parallel lists, one entry per generated token. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  /** Per token: the `logprobs` most likely tokens and the sampled one (up to logprobs + 1 keys), token string -> log-probability. */
  top_logprobs: Record<string, number>[];
  /** Per token: where its text starts in the choice's text, in characters (Unicode code points, as Python counts). */
  text_offset: number[];
}

/**
 * Collects one choice's legacy logprobs as its events arrive. A token's text_offset is the length
 * of the text shown before it: a token whose bytes end mid-character (its text shows with a later
 * token) starts where that character starts.
 */
export class CompletionLogprobsBuilder {
  private pending: CompletionLogprobs = empty();
  private readonly all: CompletionLogprobs = empty();
  private chars = 0;

  constructor(private readonly tok: Tokenizer) {}

  /** One event of the choice: its token (if any) is recorded at the current offset, then its text moves the offset on. */
  push(id: number | null, logprob: number | undefined, top: readonly TokenLogprob[] | undefined, text: string): void {
    if (id !== null) {
      const token = entry(this.tok, { id, logprob: logprob! }).token;
      const alternatives: Record<string, number> = {};
      for (const t of top ?? []) alternatives[entry(this.tok, t).token] = t.logprob;
      if (!(token in alternatives)) alternatives[token] = logprob!; // OpenAI: the sampled token is always listed
      for (const list of [this.pending, this.all]) {
        list.tokens.push(token);
        list.token_logprobs.push(logprob!);
        list.top_logprobs.push(alternatives);
        list.text_offset.push(this.chars);
      }
    }
    for (const _ of text) this.chars++;
  }

  /** The entries since the last take() (a stream chunk's), or null when there are none. */
  take(): CompletionLogprobs | null {
    if (this.pending.tokens.length === 0) return null;
    const out = this.pending;
    this.pending = empty();
    return out;
  }

  /** Every entry so far (a non-stream choice's). */
  get whole(): CompletionLogprobs {
    return this.all;
  }
}

function empty(): CompletionLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
}
