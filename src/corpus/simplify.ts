// datatrove's simplify_text with its default TextNormConfig (utils/text.py), applied before MinHash
// shingling so that case, digits, punctuation, spacing and accents do not hide a near duplicate:
// lower case, every number -> "0", punctuation -> space, whitespace runs -> one space, NFD with the
// combining marks (Mn) removed.
import { PUNCTUATION } from './filters/punctuation.js';

const NUMBERS = /\p{Nd}+([.,،٫⎖⎗⎘]\p{Nd}+)?/gu;
const MARKS = /\p{Mn}/gu;
const NON_ASCII = /[^\x00-\x7f]/;
const punct = Array.from(PUNCTUATION, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join('');
// "punctuation -> space, then whitespace runs -> one space" in one pass: every run of punctuation and
// whitespace becomes one space. A lone ' ' already is one, so it is not matched: replacing each
// gap between words was most of simplify's time.
const GAPS = new RegExp(`[${punct}\\s]{2,}|[${punct}]|[^\\S ]`, 'gu');

export function simplifyText(text: string): string {
  const s = text.toLowerCase().replace(NUMBERS, '0').replace(GAPS, ' ').trim();
  // NFD and mark removal change nothing in ASCII text
  return NON_ASCII.test(s) ? s.normalize('NFD').replace(MARKS, '').trim() : s;
}
