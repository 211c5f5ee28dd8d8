// The per-chunk work of exact deduplication on jsonl input, run on worker threads (pool.ts): split
// a chunk of whole lines (data/lines.ts), check it is UTF-8, parse each line and hash its text's exact key.
// The main thread gets back small typed arrays and writes kept lines as the bytes it read, so it
// never decodes, parses or re-encodes a row.
import { parseJsonlLine } from '../data/jsonl.js';
import { hasBom, lineSpans, NOT_UTF8 } from '../data/lines.js';
import { isUtf8 } from '../io/utf8.js';
import { exactHash } from './normalize.js';
import { textOf } from './schema.js';
import { serveWorker } from './pool.js';

export interface ExactChunk {
  bytes: Uint8Array;
  /** The file's first chunk: a UTF-8 BOM before its first line is not part of the line. */
  first: boolean;
}

export interface ExactChunkKeys {
  /** Lines in the chunk, blank and unreadable ones included (to number the next chunk's lines). */
  lines: number;
  /** Per row with a text: its line (0-based in the chunk), byte span and key halves. */
  line: Int32Array;
  start: Int32Array;
  end: Int32Array;
  hi: Uint32Array;
  lo: Uint32Array;
  /** Lines that are not rows with a text, and why (blank lines are left out silently); `record`: a JSON object without the text. */
  skipped: { line: number; reason: string; record: boolean }[];
}

export function makeHandler(init: unknown): (batch: ExactChunk[]) => ExactChunkKeys[] {
  const field = (init as { field?: string }).field;
  return (batch) =>
    batch.map(({ bytes, first }) => {
      const spans = lineSpans(bytes);
      if (first && hasBom(bytes)) spans[0] += 3;
      const lines = spans.length / 2;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const valid = isUtf8(buf); // one check for the chunk; line by line only when it fails (as data/lines.ts)
      const line = new Int32Array(lines);
      const start = new Int32Array(lines);
      const end = new Int32Array(lines);
      const hi = new Uint32Array(lines);
      const lo = new Uint32Array(lines);
      const skipped: { line: number; reason: string; record: boolean }[] = [];
      let rows = 0;
      for (let i = 0; i < lines; i++) {
        const r = valid || isUtf8(buf.subarray(spans[2 * i], spans[2 * i + 1])) ? parseJsonlLine(buf.toString('utf8', spans[2 * i], spans[2 * i + 1])) : { reason: NOT_UTF8 };
        if (r === null) continue;
        if ('reason' in r) {
          skipped.push({ line: i, reason: r.reason, record: false });
          continue;
        }
        let text: string;
        try {
          text = textOf(r.value, field);
        } catch (e) {
          skipped.push({ line: i, reason: (e as Error).message, record: true });
          continue;
        }
        [hi[rows], lo[rows]] = exactHash(text);
        line[rows] = i;
        start[rows] = spans[2 * i];
        end[rows] = spans[2 * i + 1];
        rows++;
      }
      return { lines, line: line.subarray(0, rows), start: start.subarray(0, rows), end: end.subarray(0, rows), hi: hi.subarray(0, rows), lo: lo.subarray(0, rows), skipped };
    });
}

serveWorker(makeHandler);
