// datatrove's simplify_text with its default TextNormConfig (utils/text.py), applied before MinHash
// shingling so that case, digits, punctuation, spacing and accents do not hide a near duplicate:
// lower case, every number -> "0", punctuation -> space, whitespace runs -> one space, NFD with the
// combining marks (Mn) removed.
import { PUNCTUATION } from './filters/punctuation.js';

const NUMBERS = /\p{Nd}+([.,،٫⎖⎗⎘]\p{Nd}+)?/gu;
const WHITESPACE = /\s+/gu;
const MARKS = /\p{Mn}/gu;
const PUNCT = new RegExp(`[${Array.from(PUNCTUATION, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join('')}]`, 'gu');

export function simplifyText(text: string): string {
  const s = text.toLowerCase().replace(NUMBERS, '0').replace(PUNCT, ' ').trim().replace(WHITESPACE, ' ');
  return s.normalize('NFD').replace(MARKS, '').trim();
}
