// Word and sentence splitting for the quality filters. datatrove splits English with NLTK:
// word_tokenize = the punkt sentence splitter, then the Treebank word rules on each sentence.
// The Treebank rules (NLTKWordTokenizer's regular expressions: quotes, punctuation, brackets,
// dashes, contractions) are reproduced here; punkt is a trained model that cannot be installed
// offline, so sentences are cut by its main rule instead: after . ! ? (and closing quotes or
// brackets) before whitespace and a non-lowercase character, unless the word is a common
// abbreviation. tools/corpus/reference_filters.py implements the same rules in Python, and the
// tests check both give the same words and the same filter decisions.

const W = '[\\p{L}\\p{N}_]';
const rules = (list: [string, string, string?][]) => list.map(([re, to, flags]) => [new RegExp(re, 'gu' + (flags ?? '')), to] as const);

const STARTING_QUOTES = rules([
  ['([«“‘„]|[`]+)', ' $1 '],
  ['^"', '``'],
  ['(``)', ' $1 '],
  ['([ ([{<])("|\'{2})', '$1 `` '],
  [`(')(?!re|ve|ll|m|t|s|d|n)(${W})(?!${W})`, '$1 $2', 'i'],
]);
const PUNCTUATION = rules([
  [`([^.])(\\.)([\\])}>"']*)\\s*$`, '$1 $2 $3 '],
  ['([:,])([^\\d])', ' $1 $2'],
  ['([:,])$', ' $1 '],
  ['\\.{2,}', ' $& '],
  ['[;@#$%&]', ' $& '],
  [`([^.])(\\.)([\\])}>"']*)\\s*$`, '$1 $2$3 '],
  ['[?!]', ' $& '],
  ["([^'])' ", "$1 ' "],
  ['[*]', ' $& '],
]);
const PARENS = rules([['[\\][(){}<>]', ' $& '], ['--', ' -- ']]);
const ENDING_QUOTES = rules([
  ['([»”’])', ' $1 '],
  ["''", " '' "],
  ['"', " '' "],
  ["([^' ])('[sS]|'[mM]|'[dD]|') ", '$1 $2 '],
  ["([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", '$1 $2 '],
]);
const CONTRACTIONS = rules([
  ['(?<![\\p{L}\\p{N}_])(can)(not)(?![\\p{L}\\p{N}_])', ' $1 $2 ', 'i'],
  ["(?<![\\p{L}\\p{N}_])(d)('ye)(?![\\p{L}\\p{N}_])", ' $1 $2 ', 'i'],
  ['(?<![\\p{L}\\p{N}_])(gim)(me)(?![\\p{L}\\p{N}_])', ' $1 $2 ', 'i'],
  ['(?<![\\p{L}\\p{N}_])(gon)(na)(?![\\p{L}\\p{N}_])', ' $1 $2 ', 'i'],
  ['(?<![\\p{L}\\p{N}_])(got)(ta)(?![\\p{L}\\p{N}_])', ' $1 $2 ', 'i'],
  ['(?<![\\p{L}\\p{N}_])(lem)(me)(?![\\p{L}\\p{N}_])', ' $1 $2 ', 'i'],
  ["(?<![\\p{L}\\p{N}_])(more)('n)(?![\\p{L}\\p{N}_])", ' $1 $2 ', 'i'],
  ['(?<![\\p{L}\\p{N}_])(wan)(na)(?=\\s)', ' $1 $2 ', 'i'],
  ["(?<![\\p{L}\\p{N}_])('t)(is)(?![\\p{L}\\p{N}_])", ' $1 $2 ', 'i'],
  ["(?<![\\p{L}\\p{N}_])('t)(was)(?![\\p{L}\\p{N}_])", ' $1 $2 ', 'i'],
]);

/** Treebank word rules on one sentence. */
export function treebankWords(sentence: string): string[] {
  let t = sentence;
  for (const [re, to] of STARTING_QUOTES) t = t.replace(re, to);
  for (const [re, to] of PUNCTUATION) t = t.replace(re, to);
  for (const [re, to] of PARENS) t = t.replace(re, to);
  t = ` ${t} `;
  for (const [re, to] of ENDING_QUOTES) t = t.replace(re, to);
  for (const [re, to] of CONTRACTIONS) t = t.replace(re, to);
  return t.split(/\s+/u).filter((w) => w !== '');
}

const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'vs', 'etc', 'e.g', 'i.e', 'jr', 'sr', 'inc', 'no', 'fig', 'co', 'ltd', 'u.s', 'a.m', 'p.m']);
// a sentence end: . ! ? then closing quotes/brackets, then whitespace, then not a lowercase letter
const SENTENCE_END = /([.!?]+)(["'”’)\]]*)(\s+)(?=[^\s\p{Ll}])/gu;

/** Sentences of `text`, stripped and non-empty (punkt's main rule; see the header). */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (const m of text.matchAll(SENTENCE_END)) {
    const end = m.index! + m[1].length + m[2].length;
    if (m[1] === '.') {
      const before = /(\S+)\s*$/u.exec(text.slice(start, m.index!))?.[1] ?? '';
      const word = before.toLowerCase().replace(/^[("'“‘[]+/u, '');
      if (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word)) continue; // "Mr. Smith", initials "J. Smith"
    }
    const s = text.slice(start, end).trim();
    if (s !== '') out.push(s);
    start = end;
  }
  const rest = text.slice(start).trim();
  if (rest !== '') out.push(rest);
  return out;
}

// Characters some Treebank or sentence rule reacts to. A text without any (MinHash's simplified
// text, where punctuation is already spaces) splits on whitespace, with only the contraction rules
// ("cannot" -> "can not") left to apply: the same words, without 30 regular-expression passes.
const RULE_CHARS = /["'`«»“”‘’„.,:;@#$%&?!*()[\]{}<>-]/;
// a whitespace-separated word that the contraction rules split
const CONTRACTION_WORD = /(?:^|\s)(?:cannot|d'ye|gimme|gonna|gotta|lemme|more'n|wanna|'tis|'twas)(?=\s|$)/i;
const NOT_SINGLE_SPACED = /[^\S ]| {2}|^ | $/;

/** Words of `text` as datatrove's English split_into_words gives them: sentences, then Treebank words. */
export function splitWords(text: string): string[] {
  if (!RULE_CHARS.test(text)) return CONTRACTION_WORD.test(text) ? treebankWords(text) : text.split(/\s+/u).filter((w) => w !== '');
  const out: string[] = [];
  for (const s of splitSentences(text)) for (const w of treebankWords(s)) out.push(w);
  return out;
}

/**
 * splitWords(text).join(' '). MinHash's simplified text mostly has no rule characters and single
 * spaces already: then that is the text itself, with no split and no join.
 */
export function joinedWords(text: string): string {
  if (!RULE_CHARS.test(text) && !CONTRACTION_WORD.test(text) && !NOT_SINGLE_SPACED.test(text)) return text;
  return splitWords(text).join(' ');
}

/** Length in code points (Python's len), with a fast path for text without surrogate pairs. */
export function pyLen(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}
