// json.dumps(value, ensure_ascii=False) as Python writes it: ", " and ": " separators, non-ASCII
// kept, floats in Python's repr. The tool results the model reads back are written this way in
// MiniMind, so the tokens it sees at inference match the ones it was trained on.
import { pyFloatRepr } from './expression.js';

/** A number that Python holds as a float (1.0 prints as "1.0", not "1"). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof PyFloat) return Number.isFinite(value.value) ? pyFloatRepr(value.value) : value.value > 0 ? 'Infinity' : value.value < 0 ? '-Infinity' : 'NaN';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return quote(value);
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${quote(k)}: ${pyJsonDumps(v)}`).join(', ')}}`;
  }
  return quote(String(value));
}

// JSON.stringify escapes exactly what Python's encoder escapes with ensure_ascii=False
// (", \, control characters), except that Python writes the lone surrogates JSON.stringify escapes.
function quote(s: string): string {
  return JSON.stringify(s);
}
