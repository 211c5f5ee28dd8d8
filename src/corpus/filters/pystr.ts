// Python's str semantics where the filters' thresholds depend on them: str.isspace whitespace
// (which differs from JavaScript's \s at U+001C-U+001F, U+0085 and U+FEFF), strip(), split() and
// splitlines(), so that a count matches the Python rules to the character.
const WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEFT = new RegExp(`^[${WS}]+`);
const RIGHT = new RegExp(`[${WS}]+$`);
const RUNS = new RegExp(`[${WS}]+`);
const LINE_BREAKS = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

export const pyLstrip = (s: string) => s.replace(LEFT, '');
export const pyRstrip = (s: string) => s.replace(RIGHT, '');
export const pyStrip = (s: string) => pyRstrip(pyLstrip(s));

/** str.split() with no separator: runs of whitespace, no empty strings. */
export function pySplit(s: string): string[] {
  const t = pyStrip(s);
  return t === '' ? [] : t.split(RUNS);
}

/** str.splitlines(): no trailing empty line for a final line break; '' gives []. */
export function pySplitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split(LINE_BREAKS);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
