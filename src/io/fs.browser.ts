// node:fs's synchronous functions (the ones the library uses) over the page's in-memory volume
// (volume.ts). Errors carry Node's codes (ENOENT, EEXIST, ENOTDIR, EISDIR) and messages, so the
// library's checks and messages read the same in a tab.
import { basename, dirname, resolve } from './path.browser.js';
import { files, folders, makeFolders, mtimes, putFile } from './volume.js';

type Data = string | ArrayBufferView;

function fail(code: string, what: string, path: string): never {
  const text: Record<string, string> = { ENOENT: 'no such file or directory', EEXIST: 'file already exists', ENOTDIR: 'not a directory', EISDIR: 'illegal operation on a directory', EBADF: 'bad file descriptor', ENOTEMPTY: 'directory not empty' };
  const e = new Error(`${code}: ${text[code]}, ${what} '${path}'`) as Error & { code: string; path: string };
  e.code = code;
  e.path = path;
  throw e;
}

const bytes = (data: Data, encoding?: string): Uint8Array =>
  typeof data === 'string' ? (encoding === 'latin1' || encoding === 'binary' ? Uint8Array.from(data, (c) => c.charCodeAt(0)) : new TextEncoder().encode(data)) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
const encodingOf = (o: unknown): string | undefined => (typeof o === 'string' ? o : (o as { encoding?: string } | undefined)?.encoding ?? undefined);

class Stats {
  constructor(private readonly dir: boolean, readonly size: number, readonly mtimeMs: number) {}
  get mtime(): Date { return new Date(this.mtimeMs); }
  isFile(): boolean { return !this.dir; }
  isDirectory(): boolean { return this.dir; }
  isSymbolicLink(): boolean { return false; }
}

export function existsSync(path: string): boolean {
  const p = resolve(path);
  return files.has(p) || folders.has(p);
}

export function statSync(path: string, options?: { throwIfNoEntry?: boolean }): Stats | undefined {
  const p = resolve(path);
  if (folders.has(p)) return new Stats(true, 0, mtimes.get(p) ?? 0);
  const f = files.get(p);
  if (f) return new Stats(false, f.length, mtimes.get(p) ?? 0);
  if (options?.throwIfNoEntry === false) return undefined;
  fail('ENOENT', 'stat', path);
}
export const lstatSync = statSync;
export const realpathSync = (path: string): string => (existsSync(path) ? resolve(path) : fail('ENOENT', 'realpath', path));
/** The volume has no symbolic links. */
export const readlinkSync = (path: string): string => fail('ENOENT', 'readlink', path);

export function readFileSync(path: string | number, options?: unknown): Uint8Array | string {
  const data = typeof path === 'number' ? fd(path).data.subarray(0, fd(path).size) : files.get(resolve(path)) ?? fail(folders.has(resolve(path)) ? 'EISDIR' : 'ENOENT', 'open', path);
  const enc = encodingOf(options);
  if (enc === 'latin1' || enc === 'binary') return Array.from(data, (b) => String.fromCharCode(b)).join('');
  return enc ? new TextDecoder().decode(data) : data.slice();
}

function parentMustExist(p: string, what: string, path: string): void {
  if (!folders.has(dirname(p))) fail(files.has(dirname(p)) ? 'ENOTDIR' : 'ENOENT', what, path);
}

export function writeFileSync(path: string, data: Data, options?: unknown): void {
  const p = resolve(path);
  parentMustExist(p, 'open', path);
  if (folders.has(p)) fail('EISDIR', 'open', path);
  const flag = (options as { flag?: string } | undefined)?.flag;
  if (flag?.includes('x') && files.has(p)) fail('EEXIST', 'open', path);
  putFile(p, bytes(data, encodingOf(options)));
}

export function appendFileSync(path: string, data: Data): void {
  const p = resolve(path);
  parentMustExist(p, 'open', path);
  const old = files.get(p) ?? new Uint8Array(0);
  const add = bytes(data);
  const out = new Uint8Array(old.length + add.length);
  out.set(old);
  out.set(add, old.length);
  putFile(p, out);
}

export function mkdirSync(path: string, options?: { recursive?: boolean } | number): string | undefined {
  const p = resolve(path);
  const recursive = typeof options === 'object' && !!options.recursive;
  if (files.has(p)) fail('EEXIST', 'mkdir', path);
  if (folders.has(p)) return recursive ? undefined : fail('EEXIST', 'mkdir', path);
  if (!recursive) parentMustExist(p, 'mkdir', path);
  makeFolders(p);
  return p;
}

class Dirent {
  constructor(readonly name: string, private readonly dir: boolean) {}
  isFile(): boolean { return !this.dir; }
  isDirectory(): boolean { return this.dir; }
  isSymbolicLink(): boolean { return false; }
}

export function readdirSync(path: string, options?: { withFileTypes?: boolean } | string): (string | Dirent)[] {
  const p = resolve(path);
  if (!folders.has(p)) fail(files.has(p) ? 'ENOTDIR' : 'ENOENT', 'scandir', path);
  const prefix = p === '/' ? '/' : p + '/';
  const direct = (k: string) => k.startsWith(prefix) && k !== p && !k.slice(prefix.length).includes('/');
  const entries = [...[...folders].filter(direct).map((k) => new Dirent(basename(k), true)), ...[...files.keys()].filter(direct).map((k) => new Dirent(basename(k), false))];
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return typeof options === 'object' && options.withFileTypes ? entries : entries.map((e) => e.name);
}

/** Moves a file, or a folder with everything under it. */
export function renameSync(from: string, to: string): void {
  const a = resolve(from);
  const b = resolve(to);
  if (!existsSync(a)) fail('ENOENT', 'rename', from);
  parentMustExist(b, 'rename', to);
  if (files.has(a)) {
    if (folders.has(b)) fail('EISDIR', 'rename', to);
    files.set(b, files.get(a)!);
    mtimes.set(b, Date.now());
    files.delete(a);
    return;
  }
  if (files.has(b)) fail('ENOTDIR', 'rename', to);
  if (folders.has(b) && readdirSync(b).length) fail('ENOTEMPTY', 'rename', to);
  const move = (k: string) => b + k.slice(a.length);
  for (const k of [...folders]) if (k === a || k.startsWith(a + '/')) { folders.delete(k); folders.add(move(k)); }
  for (const [k, v] of [...files]) if (k.startsWith(a + '/')) { files.delete(k); files.set(move(k), v); }
}

export function rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void {
  const p = resolve(path);
  if (files.delete(p)) return;
  if (!folders.has(p)) return options?.force ? undefined : fail('ENOENT', 'rm', path);
  if (!options?.recursive) fail('EISDIR', 'rm', path);
  for (const k of [...folders]) if (k === p || k.startsWith(p + '/')) folders.delete(k);
  for (const k of [...files.keys()]) if (k.startsWith(p + '/')) files.delete(k);
  if (p === '/') folders.add('/');
}

export function rmdirSync(path: string): void {
  const p = resolve(path);
  if (!folders.has(p)) fail(files.has(p) ? 'ENOTDIR' : 'ENOENT', 'rmdir', path);
  if (readdirSync(p).length > 0) fail('ENOTEMPTY', 'rmdir', path);
  folders.delete(p);
}

export function unlinkSync(path: string): void {
  if (!files.delete(resolve(path))) fail('ENOENT', 'unlink', path);
}

// ---- file descriptors: a file opened for writing is committed to the volume as it is written ----
interface Open { path: string; data: Uint8Array; size: number; pos: number; writable: boolean }
const open = new Map<number, Open>();
let nextFd = 3;
const fd = (n: number): Open => open.get(n) ?? fail('EBADF', 'fd', String(n));

export function openSync(path: string, flags: string | number = 'r'): number {
  const p = resolve(path);
  const f = String(flags);
  if (folders.has(p)) fail('EISDIR', 'open', path);
  if (f.startsWith('r')) {
    const data = files.get(p) ?? fail('ENOENT', 'open', path);
    open.set(nextFd, { path: p, data, size: data.length, pos: 0, writable: f.includes('+') });
  } else {
    parentMustExist(p, 'open', path);
    if (f.includes('x') && files.has(p)) fail('EEXIST', 'open', path);
    const data = f.startsWith('a') ? (files.get(p) ?? new Uint8Array(0)) : new Uint8Array(0);
    open.set(nextFd, { path: p, data, size: data.length, pos: f.startsWith('a') ? data.length : 0, writable: true });
    putFile(p, data);
  }
  return nextFd++;
}

export function readSync(n: number, buffer: ArrayBufferView, offset?: number | { offset?: number; length?: number; position?: number | bigint | null }, length?: number, position?: number | bigint | null): number {
  const o = fd(n);
  let off = 0;
  let len = buffer.byteLength;
  let pos: number | bigint | null | undefined = position;
  if (typeof offset === 'object') ({ offset: off = 0, length: len = buffer.byteLength - off, position: pos } = offset);
  else { off = offset ?? 0; len = length ?? buffer.byteLength - off; }
  const at = pos === null || pos === undefined ? o.pos : Number(pos);
  const k = Math.max(0, Math.min(len, o.size - at));
  new Uint8Array(buffer.buffer, buffer.byteOffset + off, k).set(o.data.subarray(at, at + k));
  if (pos === null || pos === undefined) o.pos += k;
  return k;
}

export function writeSync(n: number, data: Data, offset?: number | null, length?: number | string | null, position?: number | null): number {
  const o = fd(n);
  let src: Uint8Array;
  let at: number | null | undefined;
  if (typeof data === 'string') {
    src = bytes(data);
    at = offset;
  } else {
    const all = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const off = offset ?? 0;
    src = all.subarray(off, off + (typeof length === 'number' ? length : all.length - off));
    at = position;
  }
  const start = at === null || at === undefined ? o.pos : at;
  const end = start + src.length;
  if (end > o.data.length) {
    const grown = new Uint8Array(Math.max(end, o.data.length * 2));
    grown.set(o.data.subarray(0, o.size));
    o.data = grown;
  }
  o.data.set(src, start);
  o.size = Math.max(o.size, end);
  if (at === null || at === undefined) o.pos = end;
  if (files.has(o.path)) putFile(o.path, o.data.subarray(0, o.size));
  return src.length;
}

export const fsyncSync = (n: number): void => void fd(n);
export const fstatSync = (n: number): Stats => new Stats(false, fd(n).size, Date.now());
export function closeSync(n: number): void {
  const o = fd(n);
  if (o.writable && files.has(o.path)) putFile(o.path, o.data.slice(0, o.size));
  open.delete(n);
}

/** A file's text as one chunk: what the data readers iterate (and `bytesRead` for their progress). */
export function createReadStream(path: string, options?: { encoding?: string }) {
  const data = files.get(resolve(path)) ?? fail('ENOENT', 'open', path);
  const listeners: ((chunk: unknown) => void)[] = [];
  const stream = {
    bytesRead: 0,
    on(event: string, fn: (chunk: unknown) => void) {
      if (event === 'data') listeners.push(fn);
      return stream;
    },
    destroy() {},
    async *[Symbol.asyncIterator]() {
      const chunk = options?.encoding ? new TextDecoder().decode(data) : data;
      stream.bytesRead = data.length;
      for (const fn of listeners) fn(chunk);
      yield chunk;
    },
  };
  return stream;
}
