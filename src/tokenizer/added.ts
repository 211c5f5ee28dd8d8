// Added tokens (specials such as <|im_start|>, and plain added tokens such as MiniMind-3's <think>):
// before pre-tokenization, text is cut at every occurrence so each one becomes exactly one id and is
// never split by BPE. Matching is leftmost-longest with HF's single_word / lstrip / rstrip rules
// (`AddedVocabulary::find_matches`); tokens with normalized=false are matched first on the raw text,
// then normalized=true ones on the rest, as HF does (there is no normalizer in byte-level BPE, so
// "normalized" text equals the raw text).

export interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A piece of input: an added token's id, or text for the pre-tokenizer and BPE. */
export type Segment = { id: number; text?: undefined } | { id?: undefined; text: string };

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const isWordChar = (c: string) => /[\p{L}\p{N}_]/u.test(c);
const isSpace = (c: string) => /\p{White_Space}/u.test(c);

class Matcher {
  private readonly re: RegExp | null;
  private readonly byContent = new Map<string, AddedToken>();
  constructor(tokens: AddedToken[]) {
    for (const t of tokens) if (t.content !== '' && !this.byContent.has(t.content)) this.byContent.set(t.content, t);
    // JS alternation is leftmost-first; listing longer contents first makes it leftmost-longest.
    const contents = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    this.re = contents.length ? new RegExp(contents.map(escapeRe).join('|'), 'g') : null;
  }

  /** Cuts text into pieces, pushing them onto out. */
  split(text: string, out: Segment[]): void {
    if (this.re === null) {
      out.push({ text });
      return;
    }
    const re = this.re;
    re.lastIndex = 0;
    let startOffset = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const tok = this.byContent.get(m[0])!;
      let start = m.index;
      let stop = start + m[0].length;
      if (tok.single_word) {
        const startSpace = start === 0 || !isWordChar(lastChar(text, start));
        const stopSpace = stop === text.length || !isWordChar(String.fromCodePoint(text.codePointAt(stop)!));
        if (!startSpace || !stopSpace) continue;
      }
      if (tok.lstrip) {
        let s = start;
        while (s > 0 && isSpace(lastChar(text, s))) s -= lastChar(text, s).length;
        start = Math.max(s, startOffset);
      }
      if (tok.rstrip) {
        while (stop < text.length) {
          const c = String.fromCodePoint(text.codePointAt(stop)!);
          if (!isSpace(c)) break;
          stop += c.length;
        }
      }
      if (startOffset < start) out.push({ text: text.slice(startOffset, start) });
      out.push({ id: tok.id });
      startOffset = stop;
    }
    if (startOffset < text.length) out.push({ text: text.slice(startOffset) });
  }
}

function lastChar(text: string, end: number): string {
  const c = text.charCodeAt(end - 1);
  if (c >= 0xdc00 && c <= 0xdfff && end >= 2) {
    const h = text.charCodeAt(end - 2);
    if (h >= 0xd800 && h <= 0xdbff) return text.slice(end - 2, end);
  }
  return text[end - 1];
}

export class AddedVocabulary {
  readonly tokens: AddedToken[];
  readonly byId = new Map<number, AddedToken>();
  readonly byContent = new Map<string, AddedToken>();
  private readonly raw: Matcher;
  private readonly normalized: Matcher;
  private readonly hasNormalized: boolean;

  constructor(tokens: AddedToken[]) {
    this.tokens = tokens;
    for (const t of tokens) {
      this.byId.set(t.id, t);
      this.byContent.set(t.content, t);
    }
    this.raw = new Matcher(tokens.filter((t) => !t.normalized));
    this.hasNormalized = tokens.some((t) => t.normalized);
    this.normalized = new Matcher(tokens.filter((t) => t.normalized));
  }

  isSpecial(id: number): boolean {
    return this.byId.get(id)?.special === true;
  }

  /** Cuts text at added tokens. */
  split(text: string): Segment[] {
    const first: Segment[] = [];
    this.raw.split(text, first);
    if (!this.hasNormalized) return first;
    const out: Segment[] = [];
    for (const s of first) {
      if (s.text === undefined) out.push(s);
      else this.normalized.split(s.text, out);
    }
    return out;
  }
}
