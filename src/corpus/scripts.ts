// Which writing system a text is mostly in, from code point ranges (fast enough to run on every
// character of a corpus): the "language mix" of `data stats`.
export const SCRIPTS = ['han', 'latin', 'kana', 'hangul', 'cyrillic', 'arabic', 'other'] as const;
export type Script = (typeof SCRIPTS)[number];

/** Letter counts per script (digits, spaces and punctuation are not counted). */
export function scriptCounts(text: string, into: Record<Script, number> = emptyCounts()): Record<Script, number> {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if ((c | 32) >= 97 && (c | 32) <= 122) into.latin++;
    } else if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff)) into.han++;
    else if (c >= 0xd840 && c <= 0xd87f) {
      into.han++; // a surrogate pair in the CJK extension planes: count the pair once
      i++;
    } else if (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) into.latin++;
    else if (c >= 0x3040 && c <= 0x30ff) into.kana++;
    else if (c >= 0xac00 && c <= 0xd7af) into.hangul++;
    else if (c >= 0x400 && c <= 0x4ff) into.cyrillic++;
    else if (c >= 0x600 && c <= 0x6ff) into.arabic++;
    else if (c >= 0x80 && !(c >= 0x2000 && c <= 0x206f) && !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xff00 && c <= 0xffef) && !(c >= 0xd800 && c <= 0xdfff)) into.other++;
  }
  return into;
}

export function emptyCounts(): Record<Script, number> {
  return { han: 0, latin: 0, kana: 0, hangul: 0, cyrillic: 0, arabic: 0, other: 0 };
}

/** The script with the most letters, or 'none' for a text without letters. */
export function dominantScript(counts: Record<Script, number>): Script | 'none' {
  let best: Script | 'none' = 'none';
  let n = 0;
  for (const s of SCRIPTS) if (counts[s] > n) [best, n] = [s, counts[s]];
  return best;
}
