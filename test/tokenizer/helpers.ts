// Shared test helpers for the tokenizer: where MiniMind's tokenizers and corpora live, the HF
// `tokenizers` oracle, a seeded generator of random Unicode text, and the hand-written edge cases.
import { existsSync, readFileSync } from 'node:fs';
import hf from 'tokenizers';

export const SHARED = '../shared/data';
export const TOKENIZERS = `${SHARED}/minimind-tokenizer`;
export const VERSIONS = ['v1', 'minimind2', 'head'] as const;
/** Reason to skip a test that needs ../shared, or undefined when it is there. */
export const noShared: string | undefined = existsSync(TOKENIZERS) ? undefined : 'needs ../shared/data (MiniMind tokenizers and corpora); not found';

export type HfTokenizer = InstanceType<typeof hf.Tokenizer>;
export function hfLoad(path: string): HfTokenizer {
  return hf.Tokenizer.fromFile(path);
}
export function hfFromString(json: string): HfTokenizer {
  return hf.Tokenizer.fromString(json);
}
export async function hfEncode(t: HfTokenizer, text: string): Promise<number[]> {
  return (await t.encode(text, null, { addSpecialTokens: false })).getIds();
}

export async function hfEncodeBatch(t: HfTokenizer, texts: string[]): Promise<number[][]> {
  return (await t.encodeBatch(texts, { addSpecialTokens: false })).map((e) => e.getIds());
}

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
export function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random well-formed Unicode text mixing ASCII, whitespace, CJK, emoji, combining marks and any code point. */
export function randomText(r: () => number, maxLen = 40): string {
  const pools: (() => number)[] = [
    () => 0x20 + Math.floor(r() * 95), // printable ASCII
    () => [0x20, 0x20, 0x0a, 0x09, 0x0d, 0x0b, 0x0c, 0x85, 0xa0, 0x3000, 0x2003, 0x2028, 0xfeff, 0x1c][Math.floor(r() * 14)],
    () => 0x4e00 + Math.floor(r() * 0x5200), // CJK
    () => 0x1f300 + Math.floor(r() * 0x300), // emoji
    () => 0x300 + Math.floor(r() * 0x70), // combining marks
    () => "'".charCodeAt(0),
    () => 0x30 + Math.floor(r() * 10),
    () => {
      for (;;) {
        const c = Math.floor(r() * 0x110000);
        if (c < 0xd800 || c > 0xdfff) return c;
      }
    },
  ];
  const n = Math.floor(r() * maxLen);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(pools[Math.floor(r() * pools.length)]());
  return s;
}

export const EDGE_CASES: Record<string, string[]> = {
  emoji: ['😀', '👨‍👩‍👧‍👦 family', '🇨🇳🇺🇸 flags', 'ok 👍🏽!', '🏳️‍🌈✨🎉', 'e\u0301 café naïve', '😀😃😄😁 x'],
  whitespace: [
    '', ' ', '  ', 'a  b', 'a\t\tb', '\n', '\n\n\n', 'x\r\ny\r\n', '   leading', 'trailing   ', ' \n \n ',
    'a \n b', '\u3000\u3000全角空格', 'nbsp\u00a0x', 'em\u2003space', 'nel\u0085x', 'bom\ufeffx', '\ufeffstart',
    'fs\u001cx', 'tabs\t \t\nend', '    def f():\n        return 1\n',
  ],
  surrogates: ['a\ud800b', '\udc00', 'x\ud83d', '\ud83dy', '!\ud800!', '中\udfff文', '\ud800\ud800'],
  specials: [
    '<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n',
    '<s>user\nhi</s>\n<s>assistant\n',
    '<|im_start|><|im_start|><|im_end|>',
    '<|im_start', '<<|im_end|>>', 'x<|endoftext|>y', '<unk><s></s>',
    '<|im_start|>assistant\n<think>\n\n</think>\n\n<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call><|im_end|>',
    '<tool_response>ok</tool_response><|buffer1|><|buffer9|><tts_pad>',
  ],
  english: ["Hello, world! It's a test: don't, we'll, they're, I've, I'm, he'd.", 'ALL CAPS SHOUT', 'numbers 3.14159 and 1,000,000 and 2024-11-28'],
  chinese: ['你好，世界！', '《红楼梦》是中国古典四大名著之一。', '中英混合 mixed text 123个'],
  code: [
    'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n',
    'def f(x):\n\tif x > 0:\n\t\treturn x ** 2\n\treturn None\n',
    '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; }',
  ],
};

/** The first `bytes` characters of a shared text file (CRLF kept), or '' without ../shared. */
export function sharedText(rel: string, chars: number): string {
  const p = `${SHARED}/${rel}`;
  return existsSync(p) ? readFileSync(p, 'utf8').slice(0, chars) : '';
}

/** True when s has no lone surrogate (String#isWellFormed is ES2024, newer than our lib target). */
export function isWellFormed(s: string): boolean {
  return !/\p{Surrogate}/u.test(s);
}

/** Random text that may also hold lone surrogates (invalid UTF-16), for the pre-tokenizer. */
export function randomTextWithSurrogates(r: () => number, maxLen = 40): string {
  let s = randomText(r, maxLen);
  const k = Math.floor(r() * 3);
  for (let i = 0; i < k; i++) {
    const at = Math.floor(r() * (s.length + 1));
    s = s.slice(0, at) + String.fromCharCode(0xd800 + Math.floor(r() * 0x800)) + s.slice(at);
  }
  return s;
}
