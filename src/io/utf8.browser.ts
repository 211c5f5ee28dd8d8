// isUtf8 for the page: a fatal TextDecoder throws on the first invalid sequence.
const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function isUtf8(bytes: ArrayBufferView): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
