// Streaming jsonl output: rows are buffered and appended to a temporary file beside the target,
// which is renamed into place by close(); abort() (or a crash) leaves the target untouched.
// This is the async, many-rows sibling of cli/outputs.ts writeVia.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

const NEWLINE = Uint8Array.of(10);

export class JsonlWriter {
  private readonly tmp: string;
  private fd: number | null;
  // lines waiting to be written, in order: strings (serialised rows) and bytes (lines passed through as read)
  private parts: (string | Uint8Array)[] = [];
  private pending = 0;
  rows = 0;
  bytes = 0;

  constructor(readonly path: string) {
    this.tmp = join(dirname(resolve(path)), `.${basename(path)}.tmp-${process.pid}`);
    this.fd = openSync(this.tmp, 'w');
  }

  write(row: unknown): void {
    this.writeLine(JSON.stringify(row));
  }

  /** Appends one already-serialised JSON line (no newline). */
  writeLine(line: string): void {
    this.parts.push(line, '\n');
    this.added(line.length + 1);
  }

  /** Appends one line given as its UTF-8 bytes (no newline), written as they are. */
  writeBytes(line: Uint8Array): void {
    this.parts.push(line, NEWLINE);
    this.added(line.length + 1);
  }

  private added(size: number): void {
    this.rows++;
    this.pending += size;
    if (this.pending > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    // runs of strings are encoded together; byte lines go in as they are
    const chunks: Uint8Array[] = [];
    let text: string[] = [];
    for (const p of this.parts) {
      if (typeof p === 'string') text.push(p);
      else {
        if (text.length > 0) chunks.push(Buffer.from(text.join(''), 'utf8'));
        text = [];
        chunks.push(p);
      }
    }
    if (text.length > 0) chunks.push(Buffer.from(text.join(''), 'utf8'));
    const b = Buffer.concat(chunks);
    writeSync(this.fd!, b);
    this.bytes += b.length;
    this.parts = [];
    this.pending = 0;
  }

  /** Flushes, fsyncs and renames the file into place. */
  close(): void {
    this.flush();
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = null;
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.tmp, { force: true });
  }
}

/** Opens writers for `paths`, runs fn, closes them all on success and removes every temporary file on failure. */
export async function withWriters<T>(paths: string[], fn: (writers: JsonlWriter[]) => Promise<T>): Promise<T> {
  const writers: JsonlWriter[] = [];
  try {
    for (const p of paths) writers.push(new JsonlWriter(p));
    const r = await fn(writers);
    for (const w of writers) w.close();
    return r;
  } catch (e) {
    for (const w of writers) w.abort();
    throw e;
  }
}
