// Outputs never overlap inputs. A command that writes into a folder (or file) it also reads can
// destroy what it reads before it has read it: `sft --init-from R/model --out R --overwrite` once
// removed the model it was training. Every command that writes checks its output against each of
// its inputs here, comparing real paths (symlinks resolved, `./a` = `a`) and the identity (device
// and inode) of what exists, before it touches anything.
import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, rmdirSync, statSync } from '../io/fs.js';
import { basename, dirname, join, resolve } from '../io/path.js';
import { UserError } from './errors.js';

/**
 * The canonical path of `p`, following symlinks as far as the path exists, and a symlink to a path
 * that does not exist yet to where it points (a write through it lands there).
 */
export function canonicalPath(p: string, links = 0): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  if (links < 40 && lstatSync(abs, { throwIfNoEntry: false })?.isSymbolicLink()) return canonicalPath(resolve(dirname(abs), readlinkSync(abs)), links + 1);
  const parent = dirname(abs);
  return parent === abs ? abs : join(canonicalPath(parent, links), basename(abs));
}

/** A folder makeFolder made, with the parents it made for it. */
export interface MadeFolder {
  /** Where the folder is (through a symlink: where the link pointed). */
  path: string;
  /**
   * Removes again, innermost first, the folders it made that are empty (a/b/run, a/b, a/ for
   * a/b/run when a/ was missing), for a command that failed: a parent another command has written
   * into meanwhile (two runs started into a new runs/sweep/) stays.
   */
  remove(): void;
}

/**
 * Makes the folder `dir` with its missing parents (through a symbolic link to a folder still to be
 * made: where the link points); null when `dir` was there.
 */
export function makeFolder(dir: string): MadeFolder | null {
  if (existsSync(dir)) return null;
  const path = canonicalPath(dir);
  let top = path;
  while (!existsSync(dirname(top)) && dirname(top) !== top) top = dirname(top);
  mkdirSync(path, { recursive: true });
  return {
    path,
    remove() {
      for (let p = path; ; p = dirname(p)) {
        try {
          rmdirSync(p);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return; // not empty: it, and what holds it, stay
        }
        if (p === top) return;
      }
    },
  };
}

const inside = (child: string, parent: string) => child.startsWith(parent.endsWith('/') ? parent : parent + '/');

/** The device and inode of an existing path; null where it does not exist or has none (the browser's files). */
function identity(p: string): string | null {
  try {
    const st = statSync(p);
    return typeof st?.ino === 'number' && st.ino !== 0 ? `${st.dev}:${st.ino}` : null;
  } catch {
    return null;
  }
}

// Names miss an input reached under another spelling, which identities catch: a case-insensitive
// disk (macOS' and Windows' default: `--out r` is the folder `R`), a hard link, a bind mount.
function sameFile(a: string, b: string): boolean {
  const id = identity(a);
  return id !== null && id === identity(b);
}

/** Whether `child` lies under the existing folder `parent`, by the identities of child's parents. */
function under(child: string, parent: string): boolean {
  const id = identity(parent);
  if (id === null) return false;
  for (let p = dirname(child); ; p = dirname(p)) {
    if (identity(p) === id) return true;
    if (dirname(p) === p) return false;
  }
}

/**
 * Throws a UserError when the output `[flag, path]` is, contains or lies inside any input
 * `[flag, path]` (inputs without a path are skipped). The message names both and the fix.
 */
export function refuseOverlap(output: [flag: string, path: string], inputs: [flag: string, path: string | undefined][]): void {
  const [oflag, opath] = output;
  const out = canonicalPath(opath);
  for (const [flag, path] of inputs) {
    if (path === undefined || path === '') continue;
    const inp = canonicalPath(path);
    if (out === inp || sameFile(out, inp)) {
      let kind = 'path';
      try {
        kind = statSync(inp).isDirectory() ? 'folder' : 'file';
      } catch {
        /* neither exists yet: still the same path */
      }
      throw new UserError(`${oflag} ${opath} is the same ${kind} as ${flag} ${path}; writing it would destroy the input. Choose another ${oflag}`);
    }
    const how = inside(inp, out) || under(inp, out) ? 'contains' : inside(out, inp) || under(out, inp) ? 'lies inside' : null;
    if (how) throw new UserError(`${oflag} ${opath} ${how} ${flag} ${path}: an output must not overlap an input (writing it could destroy the input); choose another ${oflag}`);
  }
}
