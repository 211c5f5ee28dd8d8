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

// Character classes of the pattern: \p{L}, \p{N}, White_Space, anything else.
const OTHER = 0, LETTER = 1, NUMBER = 2, SPACE = 3, HIGH = 4; // HIGH: high surrogate, look at the pair

let bmpClass: Uint8Array | null = null;
const astralClass = new Map<number, number>();

function classify(ch: string): number {
  if (/\p{L}/u.test(ch)) return LETTER;
  if (/\p{N}/u.test(ch)) return NUMBER;
  if (new RegExp(`[${WS}]`, 'u').test(ch)) return SPACE;
  return OTHER;
}

/** Class of every BMP code unit, built once with the same Unicode tables the regex uses. */
function buildBmpClass(): Uint8Array {
  const t = new Uint8Array(65536);
  let all = '';
  for (let c = 0; c < 0xd800; c++) all += String.fromCharCode(c);
  for (let c = 0xe000; c < 0x10000; c++) all += String.fromCharCode(c);
  const mark = (re: RegExp, cls: number) => {
    for (const m of all.matchAll(re)) for (let k = 0; k < m[0].length; k++) t[m[0].charCodeAt(k)] = cls;
  };
  mark(/\p{L}+/gu, LETTER);
  mark(/\p{N}+/gu, NUMBER);
  mark(new RegExp(`[${WS}]+`, 'gu'), SPACE);
  for (let c = 0xd800; c < 0xdc00; c++) t[c] = HIGH; // low surrogates stay OTHER: alone they are lone
  return t;
}

/**
 * Splits one segment (text between added tokens) into GPT-2 words. Every char lands in exactly one word.
 * The split is a hand-written scanner equivalent to GPT2_PATTERN (leftmost-first alternation, greedy
 * runs, `\s+(?!\S)` giving back the last space before a word); it allocates nothing but the words,
 * about twice as fast as RegExp.exec. `splitWithRegex` keeps the pattern as the living definition.
 */
export class Gpt2PreTokenizer {
  private readonly re = new RegExp(GPT2_PATTERN, 'gu');
  private readonly cls: Uint8Array;
  constructor(readonly opts: PreTokenizerOptions = { addPrefixSpace: false, useRegex: true }) {
    this.cls = bmpClass ??= buildBmpClass();
  }

  /** Calls fn for each word of text, in order, until fn returns false. */
  forEachWord(text: string, fn: (word: string) => unknown): void {
    if (this.opts.addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
    if (!this.opts.useRegex) {
      if (text.length > 0) fn(text);
      return;
    }
    const n = text.length;
    const cls = this.cls;
    // class of the code point at i; its width (1 or 2 code units) is left in `w`
    let w = 1;
    const classAt = (i: number): number => {
      const c = text.charCodeAt(i);
      const k = cls[c];
      w = 1;
      if (k !== HIGH) return k;
      if (i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          w = 2;
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          let a = astralClass.get(cp);
          if (a === undefined) astralClass.set(cp, (a = classify(String.fromCodePoint(cp))));
          return a;
        }
      }
      return OTHER; // lone high surrogate
    };
    let i = 0;
    while (i < n) {
      const start = i;
      const c = text.charCodeAt(i);
      if (c === 39 && i + 1 < n) {
        // 's 't 'm 'd 're 've 'll
        const c1 = text.charCodeAt(i + 1);
        if (c1 === 115 || c1 === 116 || c1 === 109 || c1 === 100) {
          if (fn(text.slice(i, (i += 2))) === false) return;
          continue;
        }
        if (i + 2 < n) {
          const c2 = text.charCodeAt(i + 2);
          if ((c2 === 101 && (c1 === 114 || c1 === 118)) || (c1 === 108 && c2 === 108)) {
            if (fn(text.slice(i, (i += 3))) === false) return;
            continue;
          }
        }
      }
      let k: number;
      if (c === 32 && i + 1 < n && (k = classAt(i + 1)) !== SPACE) {
        i += 1 + w; // ' ?' took the space; the run starts at i + 1
      } else {
        k = classAt(i);
        i += w;
      }
      if (k === SPACE) {
        let j = i;
        while (j < n && cls[text.charCodeAt(j)] === SPACE) j++;
        // \s+(?!\S): before a non-space, leave the last space to the next word; \s+ when that is empty
        i = j < n && j - 1 > start ? j - 1 : j;
      } else {
        while (i < n && classAt(i) === k) i += w;
      }
      if (fn(text.slice(start, i)) === false) return;
    }
  }

  split(text: string): string[] {
    const out: string[] = [];
    this.forEachWord(text, (w) => out.push(w));
    return out;
  }

  /** The same split done by RegExp.exec with GPT2_PATTERN (the reference the scanner is tested against). */
  splitWithRegex(text: string): string[] {
    if (this.opts.addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
    if (!this.opts.useRegex) return text.length > 0 ? [text] : [];
    const out: string[] = [];
    const re = this.re;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) out.push(m[0]);
    return out;
  }
}
