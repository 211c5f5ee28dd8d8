// One streaming reader for every input a data command accepts, chosen by the file's extension:
//   .jsonl / .ndjson  one JSON object per line (data/jsonl.ts)
//   .json             a JSON array of objects (LLaMA-Factory, Alpaca), scanned element by element
//                     so a multi-gigabyte array needs no more memory than its largest element;
//                     a .json file that does not start with '[' is read as jsonl
//   .csv              RFC 4180 with a header row (data/csv.ts)
//   .parquet          read one row group at a time with hyparquet (pure JavaScript; every codec
//                     through hyparquet-compressors)
//   .txt / .text      one record {"text": line} per non-blank line
// Every record carries where it came from (`file:line`, `file:line [element N]` for a JSON array,
// or `file:row N` for parquet). A row that cannot be read goes to onBadRow with its place and
// reason, and reading goes on. Text is checked as UTF-8 on its bytes, before it is decoded: a row
// with invalid bytes is unreadable ('not valid UTF-8'), not read with U+FFFD in their place.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { Rejects } from './rejects.js';
import { extname } from 'node:path';
import { UserError } from '../core/errors.js';
import { assertReadableFile, readJsonl } from '../data/jsonl.js';
import { NOT_UTF8, readLines } from '../data/lines.js';
import { isUtf8 } from '../io/utf8.js';
import { readCsv } from '../data/csv.js';

export type InputFormat = 'jsonl' | 'json' | 'csv' | 'parquet' | 'txt';

export interface CorpusRecord {
  value: Record<string, unknown>;
  /** `file:line` (1-based), `file:line [element N]` in a JSON array, or `file:row N` for parquet. */
  where: string;
  /** The jsonl line as read, when the row came from jsonl (written back as it is by dedup, split and mix). */
  raw?: string;
}

export interface ReadOptions {
  /** Called for each row that could not be read; reading goes on. */
  onBadRow?: (where: string, reason: string) => void;
  /** Called with the bytes of this file read so far (for progress bars). */
  onBytes?: (bytes: number) => void;
}

const EXTENSIONS: Record<string, InputFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'json', '.csv': 'csv', '.parquet': 'parquet', '.txt': 'txt', '.text': 'txt' };

export function formatOf(path: string): InputFormat {
  const f = EXTENSIONS[extname(path).toLowerCase()];
  if (!f) throw new UserError(`${path}: unsupported file type '${extname(path)}' (use .jsonl, .json, .csv, .parquet or .txt)`);
  return f;
}

/** Checks that every input exists and has a known format, before any work starts. */
export function checkInputs(paths: string[]): void {
  if (paths.length === 0) throw new UserError('no input files given');
  for (const p of paths) {
    try {
      assertReadableFile(p);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    formatOf(p);
  }
}

/** Yields every record of `path`. */
export async function* readRecords(path: string, o: ReadOptions = {}): AsyncGenerator<CorpusRecord> {
  const format = formatOf(path);
  const onBadLine = (file: string, line: number, reason: string) => o.onBadRow?.(`${file}:${line}`, reason);
  if (format === 'parquet') return yield* readParquet(path, o);
  if (format === 'txt') return yield* readText(path, o);
  if (format === 'json' && firstChar(path) === '[') return yield* readJsonArray(path, o);
  const opts = { skipBadLines: true, onBadLine, onBytes: o.onBytes };
  const source = format === 'csv' ? readCsv(path, opts) : readJsonl(path, opts);
  try {
    for await (const r of source) yield { value: r.value as Record<string, unknown>, where: `${path}:${r.line}`, raw: (r as { raw?: string }).raw };
  } catch (e) {
    throw new UserError((e as Error).message); // csv: an unterminated quote or an empty file
  }
}

function firstChar(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4096);
    const n = readSync(fd, b, 0, b.length, 0);
    return b.toString('utf8', 0, n).replace(/^\uFEFF/, '').trimStart()[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

async function* readText(path: string, o: ReadOptions): AsyncGenerator<CorpusRecord> {
  let line = 0;
  for await (const lines of readLines(path, o.onBytes)) {
    for (const text of lines) {
      line++;
      if (text === null) o.onBadRow?.(`${path}:${line}`, NOT_UTF8);
      else if (text.trim() !== '') yield { value: { text }, where: `${path}:${line}` };
    }
  }
}

/**
 * Scans a top-level JSON array, cutting it into elements by tracking nesting depth and strings,
 * and parses each element alone. Elements must be objects. The scan runs on the bytes (JSON's
 * structure is ASCII, and no byte of a multi-byte UTF-8 character is), so each element's bytes
 * are checked as UTF-8 before they are decoded.
 */
async function* readJsonArray(path: string, o: ReadOptions): AsyncGenerator<CorpusRecord> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let pending: Buffer[] = []; // bytes of the element being read, from earlier chunks
  let startLine = 0;
  let inElement = false;
  let bytes = 0;
  let closed = false;
  let scalar = false; // inside a top-level element that is not an object (reported once)
  let element = 0; // 1-based number of the current top-level element: its place with the line, as
  // json.dump writes a whole array on one line
  const at = () => `${path}:${line} [element ${element}]`;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const s = chunk as Buffer;
    bytes += s.length;
    let from = 0; // start of the slice of s that belongs to the current element
    let nl = -1; // the next line end at or after where a string was skipped from (s.length: none)
    for (let i = 0; i < s.length; i++) {
      if (inString) {
        // most bytes are inside strings: jump to the closing quote (memchr) instead of a step per byte
        let j: number = escaped ? i + 1 : i; // escaped: s[i] follows a backslash that ended the last chunk
        let q: number = s.indexOf(34, j);
        while (q !== -1 && oddBackslashesBefore(s, q, j)) {
          j = q + 1; // an escaped quote
          q = s.indexOf(34, j);
        }
        const end = q === -1 ? s.length : q;
        escaped = q === -1 && oddBackslashesBefore(s, s.length, j);
        if (nl < i) nl = nextLineEnd(s, i);
        for (; nl < end; nl = nextLineEnd(s, nl + 1)) line++; // a raw line end in a string is invalid JSON; the lines after it stay right
        inString = q === -1;
        i = end;
        continue;
      }
      const c = s[i];
      if (c === 10) line++;
      if (c === 34) {
        inString = true;
        if (depth === 1 && !scalar) {
          element++;
          o.onBadRow?.(at(), 'expected a JSON object'); // a string element
          scalar = true;
        }
      } else if (c === 91 || c === 123) {
        // [ {
        depth++;
        if (depth === 2) {
          inElement = true;
          element++;
          startLine = line;
          from = i;
          pending = [];
        }
      } else if (c === 93 || c === 125) {
        depth--;
        if (depth === 1 && inElement) {
          const text = pending.length === 0 ? s.subarray(from, i + 1) : Buffer.concat([...pending, s.subarray(from, i + 1)]);
          inElement = false;
          pending = [];
          const where = `${path}:${startLine} [element ${element}]`;
          if (!isUtf8(text)) {
            o.onBadRow?.(where, NOT_UTF8);
            continue;
          }
          let value: unknown;
          try {
            value = JSON.parse(text.toString('utf8'));
          } catch (e) {
            o.onBadRow?.(where, `invalid JSON (${(e as Error).message})`);
            continue;
          }
          if (value === null || typeof value !== 'object' || Array.isArray(value)) o.onBadRow?.(where, 'expected a JSON object');
          else yield { value: value as Record<string, unknown>, where };
        } else if (depth === 0) closed = true;
      } else if (depth === 1 && c === 44) scalar = false;
      else if (depth === 1 && c > 32 && !scalar) {
        element++;
        o.onBadRow?.(at(), 'expected a JSON object'); // a number, true, false or null element
        scalar = true;
      }
    }
    if (inElement) pending.push(s.subarray(from));
    o.onBytes?.(bytes);
  }
  if (!closed) throw new UserError(`${path}:${line}: the JSON array is not closed (file cut short?)`);
}

/** The index of the next line end in s at or after k, or s.length when there is none. */
function nextLineEnd(s: Buffer, k: number): number {
  const n = s.indexOf(10, k);
  return n === -1 ? s.length : n;
}

/** Whether an odd number of backslashes, from no earlier than s[from], ends just before s[at] (so s[at] is escaped). */
function oddBackslashesBefore(s: Buffer, at: number, from: number): boolean {
  let k = at;
  while (k > from && s[k - 1] === 92) k--;
  return (at - k) % 2 === 1;
}

/** A string cell whose bytes are not UTF-8 (hyparquet's own parser reads them as U+FFFD; pyarrow raises): its row is unreadable. */
const NOT_UTF8_CELL = Symbol(NOT_UTF8);
const utf8 = new TextDecoder('utf-8', { fatal: true }); // one pass: as fast as hyparquet's decoder on valid text
function stringFromBytes(bytes: Uint8Array | undefined): string | symbol | undefined {
  if (!bytes) return bytes;
  try {
    return utf8.decode(bytes);
  } catch {
    return NOT_UTF8_CELL;
  }
}

/** BigInt cells (int64 columns) become numbers, so rows serialise as JSON; a cell that is not UTF-8 throws NOT_UTF8_CELL. */
function plain(v: unknown): unknown {
  if (v === NOT_UTF8_CELL) throw NOT_UTF8_CELL;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

async function* readParquet(path: string, o: ReadOptions): AsyncGenerator<CorpusRecord> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors'); // gzip, zstd, brotli, lz4 (snappy is built in)
  let file, metadata;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new UserError(`${path}: not a readable parquet file (${(e as Error).message})`);
  }
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors, parsers: { stringFromBytes } });
    } catch (e) {
      throw new UserError(`${path}: rows ${rowStart + 1}-${rowEnd}: cannot decode (${(e as Error).message})`);
    }
    for (let i = 0; i < rows.length; i++) {
      const where = `${path}:row ${rowStart + i + 1}`;
      let value: unknown;
      try {
        value = plain(rows[i]);
      } catch (e) {
        if (e !== NOT_UTF8_CELL) throw e;
        o.onBadRow?.(where, NOT_UTF8);
        continue;
      }
      yield { value: value as Record<string, unknown>, where };
    }
    rowStart = rowEnd;
    o.onBytes?.(Math.round((file.byteLength * rowStart) / Math.max(1, Number(metadata.num_rows))));
  }
}

/** Called with bytes read so far over all inputs and their total size. */
export type ByteProgress = (done: number, total: number) => void;

/**
 * Every record of every input in order; unreadable rows go to `rejects` under their reason.
 * Checks the inputs first, so a missing file fails before any work. Inputs with no readable row at
 * all (empty files, or every row broken) are an error, thrown after the last row, so that a command
 * writing through withWriters leaves nothing behind instead of an empty output and exit code 0.
 */
export async function* readInputs(inputs: string[], rejects: Pick<Rejects, 'add'>, onProgress?: ByteProgress): AsyncGenerator<CorpusRecord> {
  checkInputs(inputs);
  const sizes = inputs.map((p) => statSync(p).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  let before = 0;
  let rows = 0;
  let bad = 0;
  let firstBad = '';
  const onBadRow = (where: string, reason: string) => {
    if (bad++ === 0) firstBad = `${where}: ${reason}`;
    rejects.add(reason, where);
  };
  for (let k = 0; k < inputs.length; k++) {
    for await (const r of readRecords(inputs[k], { onBadRow, onBytes: onProgress && ((b) => onProgress(before + b, total)) })) {
      rows++;
      yield r;
    }
    before += sizes[k];
    onProgress?.(before, total);
  }
  if (rows === 0) throw noReadableRows(inputs, bad, firstBad);
}

/** The error for inputs without one readable row: `bad` unreadable ones, the first at `firstBad` (`file:line: reason`). */
export function noReadableRows(inputs: string[], bad: number, firstBad: string): UserError {
  const what = inputs.length === 1 ? inputs[0] : `${inputs.length} inputs (${inputs.join(', ')})`;
  return new UserError(bad === 0 ? `${what}: no rows (empty)` : `no readable rows in ${what}: ${bad.toLocaleString('en-US')} unreadable, the first at ${firstBad}`);
}
