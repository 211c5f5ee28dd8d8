// GPT-2 byte-level mapping, as Hugging Face's ByteLevel pre-tokenizer and decoder use it: every
// byte 0..255 is shown as one printable Unicode char ('Ġ' for space, 'Ċ' for '\n'), so a BPE
// vocabulary of strings covers arbitrary bytes. Also the UTF-8 helpers the encoder and decoder share.

/** byteToChar[b]: the printable char standing for byte b (GPT-2 `bytes_to_unicode`). */
export const byteToChar: string[] = new Array(256);
/** charToByte.get(c): the byte a byte-level char stands for. */
export const charToByte = new Map<string, number>();

{
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const c = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
    byteToChar[b] = c;
    charToByte.set(c, b);
  }
}

/** The 256 byte-level chars sorted by code point: the trainer's initial alphabet (ByteLevel.alphabet()). */
export function byteLevelAlphabet(): string[] {
  return [...byteToChar].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
}

export const utf8Encoder = new TextEncoder();

/** The byte-level string of a text: UTF-8 bytes, each shown as its char. Lone surrogates become U+FFFD. */
export function toByteLevel(text: string): string {
  const bytes = utf8Encoder.encode(text);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += byteToChar[bytes[i]];
  return s;
}

/**
 * The bytes a vocabulary token stands for, as HF's ByteLevel decoder computes them: each char mapped
 * back to its byte, or, when any char is outside the byte-level alphabet (an added token such as
 * '中文'), the token's own UTF-8 bytes.
 */
export function tokenBytes(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = charToByte.get(token[i]);
    if (b === undefined) return utf8Encoder.encode(token);
    out[i] = b;
  }
  return out;
}
