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
// reason, and reading goes on.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Rejects } from './rejects.js';
import { extname } from 'node:path';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { UserError } from '../core/errors.js';
import { assertReadableFile, readJsonl } from '../data/jsonl.js';
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
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  if (o.onBytes) input.on('data', () => o.onBytes!(input.bytesRead));
  const rl = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const raw of rl) {
    line++;
    const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() !== '') yield { value: { text }, where: `${path}:${line}` };
  }
}

/**
 * Scans a top-level JSON array, cutting it into elements by tracking nesting depth and strings,
 * and parses each element alone. Elements must be objects.
 */
async function* readJsonArray(path: string, o: ReadOptions): AsyncGenerator<CorpusRecord> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let pending = ''; // text of the element being read
  let startLine = 0;
  let inElement = false;
  let bytes = 0;
  let closed = false;
  let scalar = false; // inside a top-level element that is not an object (reported once)
  let element = 0; // 1-based number of the current top-level element: its place with the line, as
  // json.dump writes a whole array on one line
  const at = () => `${path}:${line} [element ${element}]`;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const s = chunk as string;
    bytes += Buffer.byteLength(s);
    let from = 0; // start of the slice of s that belongs to the current element
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 10) line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true; // backslash
        else if (c === 34) inString = false;
        continue;
      }
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
          pending = '';
        }
      } else if (c === 93 || c === 125) {
        depth--;
        if (depth === 1 && inElement) {
          const text = pending + s.slice(from, i + 1);
          inElement = false;
          pending = '';
          const where = `${path}:${startLine} [element ${element}]`;
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch (e) {
            o.onBadRow?.(where, `invalid JSON (${(e as Error).message})`);
            continue;
          }
          if (value === null || typeof value !== 'object' || Array.isArray(value)) o.onBadRow?.(where, 'expected a JSON object');
          else yield { value: value as Record<string, unknown>, where };
        } else if (depth === 0) closed = true;
      } else if (depth === 1 && c === 44) scalar = false;
      else if (depth === 1 && c > 32 && c !== 0xfeff && !scalar) {
        element++;
        o.onBadRow?.(at(), 'expected a JSON object'); // a number, true, false or null element
        scalar = true;
      }
    }
    if (inElement) pending += s.slice(from);
    o.onBytes?.(bytes);
  }
  if (!closed) throw new UserError(`${path}:${line}: the JSON array is not closed (file cut short?)`);
}

/** BigInt cells (int64 columns) become numbers, so rows serialise as JSON. */
function plain(v: unknown): unknown {
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
      rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors });
    } catch (e) {
      throw new UserError(`${path}: rows ${rowStart + 1}-${rowEnd}: cannot decode (${(e as Error).message})`);
    }
    for (let i = 0; i < rows.length; i++) yield { value: plain(rows[i]) as Record<string, unknown>, where: `${path}:row ${rowStart + i + 1}` };
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
