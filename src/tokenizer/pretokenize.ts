// The GPT-2 pre-tokenizer regex that Hugging Face's ByteLevel pre-tokenizer (use_regex=true) applies
// before BPE: text is cut into words ("Hello", " world", "!", "\n\n"), and merges never cross them.
//
// HF compiles the pattern with Oniguruma, whose `\s` is Unicode White_Space. JavaScript's `\s` differs
// (it adds U+FEFF and drops U+0085), so `\s` is spelled out as the White_Space set here; `\p{L}` and
// `\p{N}` are the same Unicode categories in both.

const WS = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** The pattern, with `\s` written as the White_Space class (see header). */
export const GPT2_PATTERN =
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`;

/** The pattern exactly as it appears in HF's source; used to recognise it inside a tokenizer.json Split. */
export const GPT2_PATTERN_HF = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export interface PreTokenizerOptions {
  addPrefixSpace: boolean; // prepend ' ' to a segment that does not start with one
  useRegex: boolean; // false: the whole segment is one word
}

/** Splits one segment (text between added tokens) into GPT-2 words. Every char lands in exactly one word. */
export class Gpt2PreTokenizer {
  private readonly re = new RegExp(GPT2_PATTERN, 'gu');
  constructor(readonly opts: PreTokenizerOptions = { addPrefixSpace: false, useRegex: true }) {}

  /** Calls fn for each word of text, in order. */
  forEachWord(text: string, fn: (word: string) => void): void {
    if (this.opts.addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
    if (!this.opts.useRegex) {
      if (text.length > 0) fn(text);
      return;
    }
    const re = this.re;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) fn(m[0]);
  }

  split(text: string): string[] {
    const out: string[] = [];
    this.forEachWord(text, (w) => out.push(w));
    return out;
  }
}
