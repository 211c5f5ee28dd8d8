// Streaming CSV reader for MiniMind v1's csv files (pretrain_data.csv: `text`; sft_data*.csv:
// `history,q,a`), written by pandas: RFC 4180 quoting, fields may hold newlines and "" escapes.
// Also parses v1's `history` cell, a Python list literal such as [['q1', 'a1'], ['q2', 'a2']].
// A row with bytes that are not UTF-8 is a bad row ('not valid UTF-8'), found on the bytes before
// they are decoded (data/lines.ts).
import { assertReadableFile, JsonlOptions } from './jsonl.js';
import { hasBom, lineChunks, lineSpans, NOT_UTF8 } from './lines.js';
import { isUtf8 } from '../io/utf8.js';
import { quoteUserText } from '../core/errors.js';

export interface CsvRecord {
  /** Column name → cell text, from the header row. */
  value: Record<string, string>;
  /** 1-based line number where the record starts. */
  line: number;
}

/** Yields each data row of `path` as an object keyed by the header row. */
export async function* readCsv(path: string, options: JsonlOptions = {}): AsyncGenerator<CsvRecord> {
  assertReadableFile(path);
  let header: string[] | null = null;
  let field = '';
  let row: string[] = [];
  let inQuotes = false;
  let quoteSeen = false; // just read a '"' inside quotes: either an escaped quote or the closing one
  let line = 1;
  let rowLine = 1;
  let first = true;
  let notUtf8 = false; // a line of the row being read has bytes that are not UTF-8
  const finishRow = function* (): Generator<CsvRecord> {
    row.push(field);
    field = '';
    const cells = row;
    row = [];
    const badBytes = notUtf8;
    notUtf8 = false;
    if (cells.length === 1 && cells[0] === '' && !badBytes) return; // blank line
    if (header === null) {
      if (badBytes) throw new Error(`${path}:${rowLine}: the header row is ${NOT_UTF8}`);
      header = cells;
      return;
    }
    if (badBytes || cells.length !== header.length) {
      const reason = badBytes ? NOT_UTF8 : `expected ${header.length} columns (${header.join(',')}), got ${cells.length}`;
      if (options.skipBadLines) {
        options.onBadLine?.(path, rowLine, reason);
        return;
      }
      throw new Error(`${path}:${rowLine}: ${reason}`);
    }
    const value: Record<string, string> = {};
    header.forEach((h, i) => (value[h] = cells[i]));
    yield { value, line: rowLine };
  };
  const parse = function* (s: string): Generator<CsvRecord> {
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (c === '"') {
            field += '"';
            continue;
          }
          inQuotes = false; // the previous '"' closed the field; fall through to handle c
        } else if (c === '"') {
          quoteSeen = true;
          continue;
        } else {
          if (c === '\n') line++;
          field += c;
          continue;
        }
      }
      if (c === '"' && field === '') inQuotes = true;
      else if (c === ',') {
        row.push(field);
        field = '';
      } else if (c === '\n') {
        yield* finishRow();
        line++;
        rowLine = line;
      } else if (c !== '\r') field += c;
    }
  };
  for await (const chunk of lineChunks(path, 1 << 20, options.onBytes)) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const from = first && hasBom(bytes) ? 3 : 0;
    first = false;
    if (isUtf8(bytes)) {
      yield* parse(bytes.toString('utf8', from));
      continue;
    }
    // line by line, each with its line end: a line belongs to the row being read when it starts
    // (a row ends only at a line end), so that row is the bad one
    const spans = lineSpans(bytes);
    for (let i = 0; i < spans.length; i += 2) {
      const start = i === 0 ? from : spans[i];
      const end = i + 2 < spans.length ? spans[i + 2] : bytes.length;
      if (!isUtf8(bytes.subarray(start, end))) notUtf8 = true;
      yield* parse(bytes.toString('utf8', start, end));
    }
  }
  if (quoteSeen) inQuotes = false;
  if (inQuotes) throw new Error(`${path}:${rowLine}: unterminated quoted field`);
  if (field !== '' || row.length > 0) yield* finishRow();
  if (header === null) throw new Error(`${path}: empty csv file (no header row)`);
}

/**
 * Parses a Python literal made of lists, tuples, strings, numbers, True/False/None — what
 * v1 wrote with str(list). Returns JS arrays/strings/numbers/booleans/null.
 */
export function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`cannot parse Python literal at offset ${i}: ${what}`);
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const out: unknown[] = [];
      ws();
      while (text[i] !== close) {
        out.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          ws();
        } else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
      i++;
      return out;
    }
    if (c === "'" || c === '"') return str();
    const m = /^(True|False|None|-?\d+(\.\d+)?([eE][-+]?\d+)?)/.exec(text.slice(i, i + 40));
    if (!m) fail(`unexpected '${c === undefined ? 'end of text' : quoteUserText(c)}'`);
    i += m![0].length;
    return m![0] === 'True' ? true : m![0] === 'False' ? false : m![0] === 'None' ? null : Number(m![0]);
  };
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };
  const str = (): string => {
    const q = text[i++];
    let out = '';
    while (i < text.length && text[i] !== q) {
      if (text[i] === '\\') {
        const e = text[i + 1];
        if (e === 'u' || e === 'x' || e === 'U') {
          const n = e === 'u' ? 4 : e === 'x' ? 2 : 8;
          out += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + n), 16));
          i += 2 + n;
        } else if (e === '\n') i += 2;
        else {
          out += escapes[e] ?? '\\' + e;
          i += 2;
        }
      } else out += text[i++];
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return out;
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
