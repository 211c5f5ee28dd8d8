// Streaming jsonl reader: one JSON object per line, read with a bounded buffer so corpora larger
// than memory work. A malformed line (invalid bytes included: not valid UTF-8) is an error naming
// the file and the 1-based line number; with skipBadLines it is skipped and counted instead.
// Blank lines are ignored.
import { existsSync, statSync } from '../io/fs.js';
import { NOT_UTF8, readLines } from './lines.js';
import { quoteUserText, UserError } from '../core/errors.js';

export interface JsonlOptions {
  skipBadLines?: boolean;
  /** Called once per skipped line (file, line, reason) — used to count and report them. */
  onBadLine?: (file: string, line: number, reason: string) => void;
  /** Called as the file is read, with the bytes read so far (for progress bars). */
  onBytes?: (bytes: number) => void;
}

export interface JsonlRecord {
  value: Record<string, unknown>;
  /** 1-based line number in the file. */
  line: number;
  /** The line as read (a command that passes rows through writes it back without re-serialising). */
  raw: string;
}

/** Throws a clear error when `path` is missing or not a regular file. */
export function assertReadableFile(path: string): void {
  if (!existsSync(path)) throw new Error(`data file not found: ${path}`);
  if (!statSync(path).isFile()) throw new Error(`data path is not a file: ${path}`);
}

/** Yields each non-blank line of `path` parsed as a JSON object. */
export async function* readJsonl(path: string, options: JsonlOptions = {}): AsyncGenerator<JsonlRecord> {
  assertReadableFile(path);
  let line = 0;
  for await (const lines of readLines(path, options.onBytes)) {
    for (const text of lines) {
      line++;
      const r = text === null ? { reason: NOT_UTF8 } : parseJsonlLine(text);
      if (r === null) continue;
      if ('reason' in r) {
        if (options.skipBadLines) {
          options.onBadLine?.(path, line, r.reason);
          continue;
        }
        throw new Error(`${path}:${line}: ${r.reason}`);
      }
      yield { value: r.value, line, raw: text! };
    }
  }
}

/** One jsonl line (without its line end): null when blank, else the object or why it is not one. */
export function parseJsonlLine(text: string): { value: Record<string, unknown> } | { reason: string } | null {
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { reason: `invalid JSON (${quoteUserText((e as Error).message)})` }; // V8 quotes the line
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { reason: 'expected a JSON object' };
  return { value: value as Record<string, unknown> };
}

/** A data error about one record: `file:line: what is wrong`. */
export class DataError extends UserError {
  constructor(file: string, line: number, what: string) {
    super(`${file}:${line}: ${what}`);
  }
}
