// The C4 quality rules (Raffel et al. 2020) as datatrove's C4QualityFilter applies them by
// default (pipeline/filters/c4_filters.py): line by line, drop lines with a word over 1000
// characters, without terminal punctuation (or ending in "..."), with fewer than 3 words, with
// "javascript" or a cookie / terms-of-use phrase; drop the whole document for "lorem ipsum" or a
// curly bracket, or when fewer than 5 sentences are left. Wikipedia-style citations are removed.
// The kept lines are the new text.
import { splitSentences } from './words.js';
import { pySplit, pySplitLines, pyStrip } from './pystr.js';
import { pyLen } from './words.js';

export const C4_QUALITY = { minNumSentences: 5, minWordsPerLine: 3, maxWordLength: 1000 };
const CITATION = /\[\d*]|\[edit]|\[citation needed]/g;
const POLICY = ['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'];
const END_PUNCTUATION = ['.', '?', '!', '"', "'"];

export type C4Result = { drop: string } | { text: string; droppedLines: number };

export function c4Quality(text: string, o = C4_QUALITY): C4Result {
  let sentences = 0;
  const kept: string[] = [];
  let dropped = 0;
  for (const raw of pySplitLines(text)) {
    let line = pyStrip(raw);
    const words = pySplit(line);
    if (words.some((w) => pyLen(w) > o.maxWordLength)) {
      dropped++;
      continue;
    }
    line = line.replace(CITATION, '');
    if (!END_PUNCTUATION.some((p) => line.endsWith(p)) || line.endsWith('...')) {
      dropped++;
      continue;
    }
    if (words.length < o.minWordsPerLine) {
      dropped++;
      continue;
    }
    const lower = line.toLowerCase();
    if (lower.includes('lorem ipsum')) return { drop: 'lorem_ipsum' };
    if (lower.includes('javascript')) {
      dropped++;
      continue;
    }
    if (line.includes('{')) return { drop: 'curly_bracket' };
    if (POLICY.some((p) => lower.includes(p))) {
      dropped++;
      continue;
    }
    sentences += splitSentences(line).length;
    kept.push(line);
  }
  if (sentences < o.minNumSentences) return { drop: 'too_few_sentences' };
  return { text: pyStrip(kept.join('\n')), droppedLines: dropped };
}
