// Claiming a run folder before a stage writes anything into it, so that no run loses another's
// work:
//   - a folder that already holds a run (model/, adapter/, checkpoints/, metrics.jsonl) is only
//     continued with `resume` or replaced with `overwrite`; otherwise the stage stops and says so;
//   - a lock file (.minimind.lock, holding the owner's pid) stops a second run on the same folder
//     while the first is alive; a lock left by a dead process is taken over;
//   - a run that fails before its first checkpoint leaves nothing behind (a folder it created is
//     removed), so no half-made output is mistaken for a result by a later run.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';

/** The names a run writes; anything else in the folder is left alone, even by `overwrite`. */
export const RUN_OUTPUTS = ['model', 'adapter', 'checkpoints', 'metrics.jsonl', 'report.html'];
const LOCK = '.minimind.lock';

export interface RunFolder {
  dir: string;
  /** With `overwrite`: removes the earlier run's outputs (call right before training). */
  clearEarlier(): void;
  /** Gives the lock back; after a failure before the first checkpoint, removes what the run wrote. */
  release(failed: boolean): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(dir: string): string {
  const path = join(dir, LOCK);
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + '\n';
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, mine, { flag: 'wx' });
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: { pid?: number; host?: string } = {};
    try {
      owner = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      /* a lock cut short by a crash: treat as stale */
    }
    if (typeof owner.pid === 'number' && (owner.host !== hostname() || alive(owner.pid))) {
      throw new UserError(`another run (pid ${owner.pid}${owner.host !== hostname() ? ` on ${owner.host}` : ''}) is writing to ${dir}; wait for it to finish or choose another --out (if it is gone, delete ${path})`);
    }
    unlinkSync(path); // stale: its process has died
  }
  throw new UserError(`could not lock ${dir}: another run keeps taking ${path}; choose another --out`);
}

/**
 * Checks that `dir` may be written by a run (see the header) and takes its lock. With
 * `overwrite`, the earlier run's outputs go only when `clearEarlier()` is called, right before
 * training starts, so that a mistake found while loading the model or the data costs nothing.
 * `hasCheckpoint` says whether a resume has something to continue from.
 */
export function claimRunFolder(dir: string, opts: { resume?: boolean; overwrite?: boolean; hasCheckpoint: (dir: string) => boolean }): RunFolder {
  let created = false;
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserError(`--out ${dir} is a file, not a folder; choose another --out`);
  } else {
    mkdirSync(dir, { recursive: true });
    created = true;
  }
  const lock = takeLock(dir);
  const earlier = RUN_OUTPUTS.filter((n) => existsSync(join(dir, n)));
  try {
    if (opts.resume) {
      if (!opts.hasCheckpoint(dir)) throw new UserError(`--resume: ${dir} has no complete checkpoint to continue from; start a new run without --resume`);
    } else if (earlier.length > 0 && !opts.overwrite) {
      throw new UserError(`${dir} already holds a run (${earlier.join(', ')}); continue it with --resume, replace it with --overwrite, or choose another --out`);
    }
  } catch (e) {
    rmSync(lock, { force: true });
    if (created) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let ours = created || opts.resume || earlier.length === 0;
  return {
    dir,
    clearEarlier() {
      if (opts.resume || !opts.overwrite) return;
      for (const n of earlier) rmSync(join(dir, n), { recursive: true, force: true });
      ours = true;
    },
    release(failed: boolean) {
      // A run that failed before its first checkpoint made nothing worth keeping; its metrics and
      // report would only make the next run think there is an earlier run here. An earlier run's
      // outputs that were not cleared stay untouched.
      if (failed && ours && !opts.resume && !opts.hasCheckpoint(dir)) {
        if (created) rmSync(dir, { recursive: true, force: true });
        else for (const n of RUN_OUTPUTS) rmSync(join(dir, n), { recursive: true, force: true });
      }
      rmSync(lock, { force: true });
    },
  };
}
