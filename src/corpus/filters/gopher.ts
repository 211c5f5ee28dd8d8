// The Gopher heuristics (Rae et al. 2021, appendix A) with datatrove's defaults and order
// (pipeline/filters/gopher_quality_filter.py and gopher_repetition_filter.py). Each returns null
// to keep the document, or the reason (datatrove's own name) to drop it.
import { PUNCTUATION_SET } from './punctuation.js';
import { pyLen, splitWords } from './words.js';
import { pyLstrip, pyRstrip, pySplitLines } from './pystr.js';

export const GOPHER_QUALITY = {
  minDocWords: 50,
  maxDocWords: 100_000,
  minAvgWordLength: 3,
  maxAvgWordLength: 10,
  maxSymbolWordRatio: 0.1,
  maxBulletLinesRatio: 0.9,
  maxEllipsisLinesRatio: 0.3,
  /** Despite its name: the least share of words holding a letter. */
  maxNonAlphaWordsRatio: 0.8,
  minStopWords: 2,
  stopWords: ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'],
};

const count = (text: string, sub: string) => text.split(sub).length - 1;
const HAS_LETTER = /\p{L}/u;

export function gopherQuality(text: string, words = splitWords(text), o = GOPHER_QUALITY): string | null {
  const nWords = words.length;
  const content = words.filter((w) => Array.from(w).some((ch) => !PUNCTUATION_SET.has(ch)));
  if (content.length < o.minDocWords) return 'gopher_short_doc';
  if (content.length > o.maxDocWords) return 'gopher_long_doc';
  const avg = content.reduce((a, w) => a + pyLen(w), 0) / content.length;
  if (avg < o.minAvgWordLength) return 'gopher_below_avg_threshold';
  if (avg > o.maxAvgWordLength) return 'gopher_above_avg_threshold';
  if (count(text, '#') / nWords > o.maxSymbolWordRatio) return 'gopher_too_many_hashes';
  if ((count(text, '...') + count(text, '…')) / nWords > o.maxSymbolWordRatio) return 'gopher_too_many_ellipsis';
  const lines = pySplitLines(text);
  const bullets = lines.filter((l) => /^[•-]/.test(pyLstrip(l))).length;
  if (bullets / lines.length > o.maxBulletLinesRatio) return 'gopher_too_many_bullets';
  const ellipsisEnds = lines.filter((l) => /(\.\.\.|…)$/.test(pyRstrip(l))).length;
  if (ellipsisEnds / lines.length > o.maxEllipsisLinesRatio) return 'gopher_too_many_end_ellipsis';
  if (words.filter((w) => HAS_LETTER.test(w)).length / nWords < o.maxNonAlphaWordsRatio) return 'gopher_below_alpha_threshold';
  const stop = new Set(o.stopWords);
  let found = 0;
  for (const w of new Set(words)) if (stop.has(w)) found++;
  if (found < o.minStopWords) return 'gopher_enough_stop_words';
  return null;
}

/** Table A1 of the Gopher paper, as datatrove's GopherRepetitionFilter defaults. */
export const GOPHER_REPETITION = {
  dupLineFrac: 0.3,
  dupParaFrac: 0.3,
  dupLineCharFrac: 0.2,
  dupParaCharFrac: 0.2,
  topNGrams: [[2, 0.2], [3, 0.18], [4, 0.16]] as [number, number][],
  dupNGrams: [[5, 0.15], [6, 0.14], [7, 0.13], [8, 0.12], [9, 0.11], [10, 0.1]] as [number, number][],
};

/** Elements seen before (count) and their characters. */
function duplicates(items: string[]): [number, number] {
  const seen = new Set<string>();
  let n = 0;
  let chars = 0;
  for (const x of items) {
    if (seen.has(x)) {
      n++;
      chars += pyLen(x);
    } else seen.add(x);
  }
  return [n, chars];
}

/** Characters of the most frequent n-gram (words joined by spaces) times its count; ties go to the first seen. */
function topNGramChars(words: string[], n: number): number {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= words.length; i++) {
    const g = words.slice(i, i + n).join(' ');
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  let best = '';
  let bestCount = 0;
  for (const [g, c] of counts) if (c > bestCount) [best, bestCount] = [g, c];
  return pyLen(best) * bestCount;
}

/** Characters in n-grams (words joined without spaces) that repeat an earlier one, not counting overlaps. */
function repeatedNGramChars(words: string[], n: number): number {
  const seen = new Set<string>();
  let chars = 0;
  let i = 0;
  while (i < words.length - n + 1) {
    const g = words.slice(i, i + n).join('');
    if (seen.has(g)) {
      chars += pyLen(g);
      i += n;
    } else {
      seen.add(g);
      i++;
    }
  }
  return chars;
}

export function gopherRepetition(text: string, words?: string[], o = GOPHER_REPETITION): string | null {
  const len = pyLen(text);
  const paragraphs = pyRstrip(pyLstrip(text)).split(/\n{2,}/);
  const [paraDups, paraChars] = duplicates(paragraphs);
  if (paraDups / paragraphs.length > o.dupParaFrac) return 'dup_para_frac';
  if (paraChars / len > o.dupParaCharFrac) return 'dup_para_char_frac';
  const lines = text.split(/\n+/);
  const [lineDups, lineChars] = duplicates(lines);
  if (lineDups / lines.length > o.dupLineFrac) return 'dup_line_frac';
  if (lineChars / len > o.dupLineCharFrac) return 'dup_line_char_frac';
  const w = words ?? splitWords(text);
  for (const [n, frac] of o.topNGrams) {
    if (w.length < n) continue;
    if (topNGramChars(w, n) / len > frac) return `top_${n}_gram`;
  }
  for (const [n, frac] of o.dupNGrams) if (repeatedNGramChars(w, n) / len > frac) return `duplicated_${n}_n_grams`;
  return null;
}
