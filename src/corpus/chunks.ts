// jsonl as chunks of whole lines (bytes), for work that hands lines to worker threads undecoded
// and writes kept lines back as the bytes read (exact dedup): no per-line strings on the main
// thread. Line ends are readline's, as readJsonl (data/jsonl.ts) sees them: \n, \r\n, or a lone \r.
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The jsonl file as chunks of whole lines (about `size` bytes each, more for a longer line), for
 * work that parses lines on worker threads and writes kept lines back as the bytes read. A chunk
 * ends after a line end (readline's: \n, \r\n, or a lone \r) or at the end of the file.
 */
export async function* jsonlChunks(path: string, size = 1 << 20, onBytes?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
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
    }
  } finally {
    closeSync(fd);
  }
}

/** [start, end) byte offsets of each line of a chunk (line ends left out), as jsonlChunks cuts them. */
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
