// Streams training text out of corpus files without loading them whole, so a corpus larger than
// memory works (the trainer keeps only distinct words and their counts).
//   *.jsonl : one JSON object a line; its `text` field, or (MiniMind's SFT format, as its
//             train_tokenizer.py reads it) the `content` of each `conversations` turn joined by '\n'.
//   other   : plain text, one sequence per line, line endings kept (what HF `tokenizer.train(files)`
//             feeds its trainer, so the same file gives the same words).
import { closeSync, openSync, readSync, statSync } from '../io/fs.js';
import { extname } from '../io/path.js';
import { isUtf8 } from '../io/utf8.js';
import { NOT_UTF8 } from '../data/lines.js';
import { UserError } from '../core/errors.js';

const CHUNK = 4 << 20;

/**
 * Yields the lines of a file (each with its '\n' when it has one), reading chunkBytes (4 MB) at a
 * time. Bytes that are not UTF-8 are an error naming the file and line (as HF tokenizers and
 * MiniMind's train_tokenizer.py refuse them), found on the bytes before they are decoded.
 */
export function* readLines(path: string, onBytes?: (n: number) => void, chunkBytes = CHUNK): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    const pending: Buffer[] = []; // bytes of a line not ended yet (copies: buf is reused)
    let line = 0;
    const check = (bytes: Buffer) => {
      if (!isUtf8(bytes)) throw new UserError(`${path}:${line}: ${NOT_UTF8}`);
    };
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n === 0) break;
      onBytes?.(n);
      const chunk = buf.subarray(0, n);
      const last = chunk.lastIndexOf(10);
      if (last === -1) {
        pending.push(Buffer.from(chunk)); // a line longer than a chunk: joined once it ends
        continue;
      }
      const data = pending.length > 0 ? Buffer.concat([...pending.splice(0), chunk]) : chunk;
      const cut = data.length - (n - last - 1); // after the last '\n'
      const valid = isUtf8(data.subarray(0, cut)); // one check for the chunk; line by line only when it fails
      for (let start = 0; start < cut; ) {
        const end = data.indexOf(10, start) + 1;
        line++;
        if (!valid) check(data.subarray(start, end));
        yield data.toString('utf8', start, end);
        start = end;
      }
      if (cut < data.length) pending.push(Buffer.from(data.subarray(cut)));
    }
    if (pending.length > 0) {
      const rest = Buffer.concat(pending);
      line++;
      check(rest);
      yield rest.toString('utf8');
    }
  } finally {
    closeSync(fd);
  }
}

/** The text a jsonl record contributes, or undefined when it has none. */
export function jsonlText(rec: unknown): string | undefined {
  if (rec === null || typeof rec !== 'object') return undefined;
  const r = rec as { text?: unknown; conversations?: unknown };
  if (typeof r.text === 'string') return r.text;
  if (Array.isArray(r.conversations)) {
    const parts = r.conversations
      .map((t) => (t && typeof t === 'object' ? (t as { content?: unknown }).content : undefined))
      .filter((c): c is string => typeof c === 'string' && c.length > 0);
    return parts.length ? parts.join('\n') : undefined;
  }
  return undefined;
}

/** Yields the training sequences of all files in order; onBytes reports raw bytes read (progress). */
export function* readCorpus(files: string[], onBytes?: (n: number) => void): Generator<string> {
  for (const f of files) {
    statSync(f); // a clear ENOENT naming the file before anything is read
    if (extname(f).toLowerCase() === '.jsonl') {
      let lineNo = 0;
      for (const line of readLines(f, onBytes)) {
        lineNo++;
        if (line.trim() === '') continue;
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch (e) {
          throw new Error(`${f}:${lineNo}: not valid JSON (${(e as Error).message})`);
        }
        const t = jsonlText(rec);
        if (t !== undefined) yield t;
      }
    } else {
      yield* readLines(f, onBytes);
    }
  }
}

/** Total size in bytes of the files (for the progress bar). */
export function totalBytes(files: string[]): number {
  let n = 0;
  for (const f of files) n += statSync(f).size;
  return n;
}
