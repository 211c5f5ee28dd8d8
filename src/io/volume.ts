// The page's file system: an in-memory volume of files (bytes) and folders, keyed by absolute POSIX
// path. fs.browser.ts gives the library node:fs's synchronous functions over it; the page fills it
// (fetched or dropped model folders) and reads it back (downloads, OPFS copies of checkpoints).
import { dirname, resolve } from './path.browser.js';

export const files = new Map<string, Uint8Array>();
export const folders = new Set<string>(['/']);
/** Modification times (ms), for stat(). */
export const mtimes = new Map<string, number>();

export function putFile(path: string, data: Uint8Array): void {
  const p = resolve(path);
  makeFolders(dirname(p));
  files.set(p, data);
  mtimes.set(p, Date.now());
}

export function makeFolders(path: string): void {
  for (let p = resolve(path); !folders.has(p); p = dirname(p)) folders.add(p);
}

/** Every file under `folder`, by path relative to it. */
export function filesUnder(folder: string): Map<string, Uint8Array> {
  const root = resolve(folder);
  const out = new Map<string, Uint8Array>();
  for (const [p, data] of files) if (p.startsWith(root + '/')) out.set(p.slice(root.length + 1), data);
  return out;
}
