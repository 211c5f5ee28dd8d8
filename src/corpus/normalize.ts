// Text repairs that `clean` applies to every text before the quality filters, and the key that
// exact deduplication compares.
import { h64Into } from './xxhash.js';

export interface NormalizeOptions {
  /** Unicode normal form (NFC keeps full-width punctuation; NFKC folds it to ASCII). */
  form?: 'NFC' | 'NFKC' | 'none';
  /** Remove HTML tags and decode the common entities. */
  html?: boolean;
}

// C0/C1 control characters except tab and newline, plus zero-width and bidi marks, BOMs and
// the replacement character left by bad decodes.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200D\u2060\uFEFF\uFFFD\u202A-\u202E]/g;
const TAG = /<\/?(?:[a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?\/?>|<!--[\s\S]*?-->/g;
const BLOCK_TAG = /<\/?(?:p|div|br|li|tr|h[1-6]|ul|ol|table|section|article)\b[^<>]*>/gi;
const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", mdash: '—', ndash: '–', hellip: '…', copy: '©', reg: '®' };
const ENTITY = /&(nbsp|amp|lt|gt|quot|apos|#39|mdash|ndash|hellip|copy|reg|#\d{1,6}|#x[0-9a-fA-F]{1,5});/g;

function decodeEntity(_: string, name: string): string {
  if (name[0] === '#' && name !== '#39') {
    const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
  }
  return ENTITIES[name];
}

/** Line endings to \n, control characters removed, HTML remnants stripped, normal form applied, trailing spaces trimmed. */
export function normalizeText(text: string, o: NormalizeOptions = {}): string {
  let s = text.replace(/\r\n?/g, '\n').replace(CONTROL, '');
  if (o.html !== false && s.includes('<')) s = s.replace(BLOCK_TAG, '\n').replace(TAG, '');
  if (o.html !== false && s.includes('&')) s = s.replace(ENTITY, decodeEntity);
  const form = o.form ?? 'NFC';
  if (form !== 'none') s = s.normalize(form);
  return s.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** The exact-duplicate key: NFKC, lower case, whitespace runs as one space. */
export function exactKey(text: string): string {
  const nfkc = NON_ASCII.test(text) ? text.normalize('NFKC') : text; // ASCII is its own NFKC
  return nfkc.toLowerCase().replace(SPACE_RUNS, ' ').trim();
}
const NON_ASCII = /[^\x00-\x7f]/;
// whitespace runs -> one space, without matching a lone ' ' (already one): /\s+/ replaced every
// gap between words and was half the key's time
const SPACE_RUNS = /\s{2,}|[^\S ]/g;

/** A 64-bit hash of the exact key (xxh64 of its UTF-8), as two uint32 halves (hi, lo). */
export function exactHash(text: string): [number, number] {
  h64Into(exactKey(text), halves, 0);
  return [halves[0], halves[1]];
}
const halves = new Uint32Array(2);
