// The one crash-safe file writer: a temporary file beside the target, fsynced, renamed over it,
// then the folder fsynced. Readers see the old content or the new, never half; a failure (a full
// disk included) removes the temporary file and, for the causes a user can fix, becomes one line.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from '../io/fs.js';
import { basename, dirname, join, resolve } from '../io/path.js';
import { UserError } from './errors.js';
import { process } from '../io/process.js';

/**
 * A failed write as one line naming `path` when the user can fix its cause (a full disk: ENOSPC,
 * EDQUOT; no permission; a read-only file system); other errors come back unchanged.
 */
export function writeError(e: unknown, path: string): unknown {
  if (e instanceof UserError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new UserError(`cannot write ${path}: the disk is full (${code}); free some space or choose another output folder`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`cannot write ${path}: permission denied (${code}); choose another output folder`);
  if (code === 'EROFS') return new UserError(`cannot write ${path}: read-only file system (${code}); choose another output folder`);
  return e;
}

/** Writes all of `data` at the file position of `fd`, in pieces of at most 1 GiB. */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, Math.min(data.length - off, 1 << 30));
}

/**
 * Fault injection for tests: with MINIMIND_FAIL_WRITE=TEXT, writing a file whose path contains
 * TEXT stops half way with ENOSPC, as a full disk does (on any machine, without mounting one).
 */
function simulatedDiskFull(file: string): boolean {
  const when = process.env.MINIMIND_FAIL_WRITE;
  return when !== undefined && when !== '' && file.includes(when);
}

/** Writes `data` to `file` atomically (see the header); creates the folder when missing. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = dirname(resolve(file));
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (simulatedDiskFull(file)) {
        writeAll(fd, bytes.subarray(0, bytes.length >> 1));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      writeAll(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(e, file);
  }
  fsyncPath(dir);
}

/** fsync a file or folder; some filesystems refuse it on folders, where the rename is still atomic. */
export function fsyncPath(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}
