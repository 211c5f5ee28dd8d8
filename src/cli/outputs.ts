// Guards for commands that write files the user names: an output that is one of the inputs is
// refused (writing it would destroy the input before it is read), an existing output is only
// replaced with --overwrite, and a file is written under a temporary name and renamed into
// place, so a failure half-way leaves no truncated output behind.
import { existsSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './args.js';

/** The canonical path of `p`, following symlinks as far as the path exists. */
function canonical(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(canonical(parent), basename(abs));
}

/** Refuses an output path that names the same file or folder as an input. */
export function refuseSamePath(output: [flag: string, path: string], ...inputs: [flag: string, path: string][]): void {
  const out = canonical(output[1]);
  for (const [flag, path] of inputs) {
    const inp = canonical(path);
    if (out === inp) throw new CliError(`${output[0]} ${output[1]} is the same ${statOrNull(inp)?.isDirectory() ? 'folder' : 'file'} as ${flag} ${path}; writing it would destroy the input. Choose another ${output[0]}`);
    if (out.startsWith(inp + '/') || inp.startsWith(out + '/')) throw new CliError(`${output[0]} ${output[1]} and ${flag} ${path} overlap (one is inside the other); choose another ${output[0]}`);
  }
}

function statOrNull(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/** Refuses to replace an existing file or non-empty folder unless `overwrite`. */
export function refuseExisting(flag: string, path: string, overwrite: boolean): void {
  const st = statOrNull(path);
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
