// Shared command-line helpers: one error type that main.ts prints without a stack trace, and a
// thin wrapper over node:util parseArgs that turns '--max-new-tokens 5' into typed values and
// prints the command's usage on --help.
import { parseArgs } from 'node:util';
import { UserError } from '../core/errors.js';

/** An error caused by the user's input; printed as one line, exit code 2 (the library's UserError). */
export class CliError extends UserError {}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }>;

/**
 * Parses argv against spec. Returns null (after printing usage) when --help was given.
 * Unknown flags raise a CliError that names the flag.
 */
export function parseFlags(
  argv: string[],
  spec: FlagSpec,
  usage: string,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } | null {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...spec, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${usage}`);
  }
  if (parsed.values.help) {
    console.log(usage);
    return null;
  }
  return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals };
}

/** Reads a numeric flag, with a clear error when it is not a number. */
export function numberFlag(values: Record<string, unknown>, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
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
