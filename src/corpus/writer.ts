// Streaming jsonl output: rows are buffered and appended to a temporary file beside the target,
// which is renamed into place by close(); abort() (or a crash) leaves the target untouched.
// This is the async, many-rows sibling of cli/outputs.ts writeVia.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { removeStaleTemps, trackTemp } from '../core/temp-paths.js';

export class JsonlWriter {
  private readonly tmp: string;
  private fd: number | null;
  private readonly untrack: () => void; // the temporary file is removed on Ctrl-C (core/temp-paths.ts)
  // lines are copied into one output buffer (strings encoded straight into it), written when full
  private out = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  rows = 0;
  bytes = 0;

  constructor(readonly path: string) {
    removeStaleTemps(join(dirname(resolve(path)), `.${basename(path)}`)); // left by a killed run
    this.tmp = join(dirname(resolve(path)), `.${basename(path)}.tmp-${process.pid}`);
    this.fd = openSync(this.tmp, 'w');
    this.untrack = trackTemp(this.tmp);
  }

  write(row: unknown): void {
    this.writeLine(JSON.stringify(row));
  }

  /** Appends one already-serialised JSON line (no newline). */
  writeLine(line: string): void {
    this.rows++;
    // a UTF-16 unit is at most 3 UTF-8 bytes: room for that is room for the line
    if (this.used + 3 * line.length + 1 > this.out.length) this.flush();
    if (3 * line.length + 1 > this.out.length) return this.direct(Buffer.from(line + '\n', 'utf8'));
    this.used += this.out.write(line, this.used, 'utf8');
    this.out[this.used++] = 10;
  }

  /** Appends one line given as its UTF-8 bytes (no newline), written as they are. */
  writeBytes(line: Uint8Array): void {
    this.rows++;
    if (this.used + line.length + 1 > this.out.length) this.flush();
    if (line.length + 1 > this.out.length) {
      this.direct(line);
      return this.direct(Uint8Array.of(10));
    }
    this.out.set(line, this.used);
    this.used += line.length;
    this.out[this.used++] = 10;
  }

  private direct(b: Uint8Array): void {
    writeSync(this.fd!, b);
    this.bytes += b.length;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.direct(this.out.subarray(0, this.used));
    this.used = 0;
  }

  /** Flushes, fsyncs and renames the file into place. */
  close(): void {
    this.flush();
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = null;
    renameSync(this.tmp, this.path);
    this.untrack();
  }

  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.tmp, { force: true });
    this.untrack();
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
