// Text files (jsonl, txt, csv) line by line, read as bytes: the data readers' lines come from here
// (the tokenizer trainer's reader, tokenizer/corpus.ts, cuts at \n only and keeps line ends, as HF
// tokenizers do). Line ends are readline's: \n, \r\n, or a lone \r. Each line's bytes are checked as UTF-8 before
// they are decoded, so a file with invalid bytes is refused line by line as MiniMind's Python
// scripts refuse it (UnicodeDecodeError), instead of being read with U+FFFD in their place; a real
// U+FFFD in the file (bytes EF BF BD) is valid text. Exact dedup takes the chunks of whole lines
// undecoded to its worker threads and checks them there (corpus/exact-worker.ts).
import { closeSync, openSync, readSync } from '../io/fs.js';
import { isUtf8 } from '../io/utf8.js';

/** The reason a line (or row) whose bytes are not UTF-8 is refused or skipped. */
export const NOT_UTF8 = 'not valid UTF-8';

/**
 * The lines of `path` (line ends left out), a chunk of about 1 MB at a time: each line's text, or
 * null when its bytes are not valid UTF-8. A UTF-8 BOM before the first line is left out. onBytes
 * gets the bytes read so far. (Chunks, not single lines: an async step per line costs more than
 * reading the line.)
 */
export async function* readLines(path: string, onBytes?: (bytes: number) => void): AsyncGenerator<(string | null)[]> {
  let first = true;
  for await (const chunk of lineChunks(path, 1 << 20, onBytes)) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const spans = lineSpans(bytes);
    if (first && hasBom(bytes)) spans[0] += 3;
    first = false;
    const valid = isUtf8(bytes); // one check for the chunk (simdutf); line by line only when it fails
    const lines: (string | null)[] = new Array(spans.length / 2);
    for (let i = 0; i < spans.length; i += 2) {
      const start = spans[i];
      const end = spans[i + 1];
      lines[i / 2] = valid || isUtf8(bytes.subarray(start, end)) ? bytes.toString('utf8', start, end) : null;
    }
    yield lines;
  }
}

/** The 1-based number of the first line (lines end at \n) whose bytes are not UTF-8, or 0 when all are; for files read whole. */
export function firstLineNotUtf8(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return 0;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let line = 1, start = 0; ; line++) {
    const nl = b.indexOf(10, start);
    if (!isUtf8(b.subarray(start, nl === -1 ? b.length : nl))) return line;
    if (nl === -1) return 0; // not reached: a \n (ASCII) never joins the bytes around it into valid UTF-8
    start = nl + 1;
  }
}

/** Whether the bytes start with a UTF-8 byte order mark (EF BB BF). */
export function hasBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/**
 * The file as chunks of whole lines (about `size` bytes each, more for a longer line), for work
 * that parses lines on worker threads and writes kept lines back as the bytes read. A chunk ends
 * after a line end (readline's: \n, \r\n, or a lone \r) or at the end of the file, so a multi-byte
 * character is never cut.
 */
export async function* lineChunks(path: string, size = 1 << 20, onBytes?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  // synchronous reads: a chunk from the page cache takes a fraction of a millisecond, less than
  // the event-loop round trip of an asynchronous read (measured as idle time between chunks)
  const fd = openSync(path, 'r');
  try {
    let carry: Uint8Array = new Uint8Array(0);
    let read = 0;
    for (;;) {
      const want = Math.max(size, carry.length); // a long line: read more each time, not quadratically often
      const buf = new Uint8Array(carry.length + want);
      buf.set(carry);
      const bytesRead = readSync(fd, buf, carry.length, want, null);
      read += bytesRead;
      onBytes?.(read);
      const have = carry.length + bytesRead;
      if (bytesRead === 0) {
        if (have > 0) yield buf.subarray(0, have);
        return;
      }
      // cut after the last line end; a \r as the last byte read may be the first half of \r\n
      const lf = buf.lastIndexOf(10, have - 1);
      const cr = have >= 2 ? buf.lastIndexOf(13, have - 2) : -1;
      const cut = Math.max(lf, cr) + 1;
      if (cut === 0) {
        carry = buf.subarray(0, have); // one line longer than the chunk so far
        continue;
      }
      yield buf.subarray(0, cut);
      carry = buf.slice(cut, have);
      await nextTurn();
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A turn of the event loop between chunks: the reads are synchronous, so without it a reader whose
 * consumer never waits would go through the whole file before a Ctrl-C or a progress bar's timer
 * is noticed. setImmediate, not setTimeout (at least 1 ms in Node, a lot per 1 MB chunk).
 */
const nextTurn = (): Promise<void> => new Promise((resolve) => (globalThis.setImmediate ?? setTimeout)(resolve));

/** [start, end) byte offsets of each line of a chunk (line ends left out), as lineChunks cuts them. */
export function lineSpans(chunk: Uint8Array): Int32Array {
  // Buffer's indexOf is memchr; a Uint8Array's goes byte by byte (it was most of this function's time)
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const spans: number[] = [];
  const hasCR = bytes.indexOf(13) !== -1; // \r is rare: without it, lines end only at \n
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    let next = end + 1;
    if (end === -1) end = next = bytes.length;
    if (hasCR) {
      const cr = bytes.indexOf(13, start);
      if (cr !== -1 && cr < end) {
        end = cr;
        next = bytes[cr + 1] === 10 ? cr + 2 : cr + 1;
      }
    }
    spans.push(start, end);
    start = next;
  }
  return Int32Array.from(spans);
}
