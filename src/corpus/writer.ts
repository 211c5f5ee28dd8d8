// Streaming jsonl output: rows are buffered and appended to a temporary file beside the target,
// which is renamed into place by close(); abort() (or a crash) leaves the target untouched.
// This is the async, many-rows sibling of cli/outputs.ts writeVia.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export class JsonlWriter {
  private readonly tmp: string;
  private fd: number | null;
  private buf: string[] = [];
  private bufChars = 0;
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
    this.buf.push(line, '\n');
    this.bufChars += line.length + 1;
    this.rows++;
    if (this.bufChars > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    const b = Buffer.from(this.buf.join(''), 'utf8');
    writeSync(this.fd!, b);
    this.bytes += b.length;
    this.buf = [];
    this.bufChars = 0;
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
