// Guards for commands that write files the user names (an output that overlaps an input is refused
// first, by refuseOverlap in src/core/paths.ts): an existing output is only replaced with
// --overwrite, and a file is written under a temporary name and renamed into place, so a failure
// half-way leaves no truncated output behind.
import { readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './args.js';
import { removeTemps } from '../core/temp-paths.js';

function statOrNull(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/**
 * Refuses to replace an existing file or non-empty folder unless `overwrite`; where the output is
 * one file (`kind` 'file'), an existing folder is refused even with `overwrite` (renaming the
 * written file over it would fail at the end, after all the work); `example` names a file for the message.
 */
export function refuseExisting(flag: string, path: string, overwrite: boolean, kind: 'file' | 'any' = 'any', example = 'out.jsonl'): void {
  const st = statOrNull(path);
  if (st?.isDirectory() && kind === 'file') throw new CliError(`${flag} ${path} is a folder; give a file name (such as ${join(path, example)})`);
  if (!st || overwrite) return;
  if (st.isDirectory() && readdirSync(path).length === 0) return;
  throw new CliError(`${flag} ${path} already exists; choose another ${flag}, or add --overwrite to replace it`);
}

/** Runs write(tmp) and renames tmp over `path`; on failure the temporary file is removed. */
export function writeVia<T>(path: string, write: (tmp: string) => T): T {
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.tmp-${process.pid}`);
  try {
    const r = write(tmp);
    renameSync(tmp, path);
    return r;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Until the returned function is called, Ctrl-C (SIGINT) and SIGTERM remove the temporary files
 * and folders that outputs are being written into (core/temp-paths.ts), print one line and exit
 * with 130 or 143, as a shell reports those signals: an interrupted command leaves neither a
 * half-written output nor its temporary file.
 */
export function removeTempsOnSignal(): () => void {
  const on = (signal: NodeJS.Signals) => {
    removeTemps();
    process.stderr.write('\nminimind: interrupted; nothing was written (outputs appear only when complete): run the command again\n');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
}
