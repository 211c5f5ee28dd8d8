// Shared command-line helpers: one error type that main.ts prints without a stack trace, and a
// thin wrapper over node:util parseArgs that turns '--max-new-tokens 5' into typed values and
// prints the command's usage on --help.
import { parseArgs } from 'node:util';
import { UserError } from '../core/errors.js';

/** An error caused by the user's input; printed as one line, exit code 2 (the library's UserError). */
export class CliError extends UserError {}

/** A command's flags; `number: true` makes a string flag's value a number (or a one-line error). */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; number?: boolean; short?: string; multiple?: boolean; default?: string | boolean }>;

/**
 * Parses argv against spec. Returns null (after printing usage) when --help was given.
 * Unknown flags raise a CliError that names the flag.
 */
export function parseFlags(
  argv: string[],
  spec: FlagSpec,
  usage: string,
): { values: Record<string, string | number | boolean | string[] | undefined>; positionals: string[] } | null {
  let parsed;
  const options = Object.fromEntries(Object.entries(spec).map(([k, { number: _n, ...o }]) => [k, o]));
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, spec), options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    // node's messages for unknown flags go on to explain '--' positionals; the first sentence is the point
    const m = /^Unknown option '([^']+)'/.exec((e as Error).message);
    throw new CliError(`${m ? `unknown option '${m[1]}'` : (e as Error).message}\n\n${usage}`);
  }
  if (parsed.values.help) {
    console.log(usage);
    return null;
  }
  const values = parsed.values as Record<string, string | number | boolean | string[] | undefined>;
  for (const [k, def] of Object.entries(spec)) if (def.number && values[k] !== undefined) values[k] = numberFlag(values, k, NaN);
  return { values, positionals: parsed.positionals };
}

/**
 * `--beta -1` → `--beta=-1`: parseArgs takes a value starting with '-' for a flag, so a negative
 * number would be refused as "ambiguous" instead of reaching the range check that explains it.
 */
function joinNegativeValues(argv: string[], spec: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    const next = argv[i + 1];
    if (name !== null && spec[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|inf|Infinity)/i.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** Reads a numeric flag, with a clear error when it is not a number. */
export function numberFlag(values: Record<string, unknown>, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v === 'number') return v; // a `number: true` flag, converted by parseFlags
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new CliError(`--${name} must be a number, got '${String(v)}'`);
  return n;
}

/** Reads a required string flag. */
export function requireFlag(values: Record<string, unknown>, name: string, usage: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`--${name} is required\n\n${usage}`);
  return v;
}
