// Claiming a run folder before a stage writes anything into it, so that no run loses another's
// work. Both training loops (trainer.ts, rl/loop.ts) go through it:
//   - a folder that already holds a run (model/, adapter/, checkpoints/, metrics.jsonl) is only
//     continued with `resume` or replaced with `overwrite`; otherwise the stage stops and says so
//     (a run killed before its first checkpoint is named as such: nothing in it can be continued);
//   - a lock file (.minimind.lock, holding the owner's pid) stops a second run on the same folder
//     while the first is alive; a lock left by a dead process is taken over;
//   - `overwrite` never deletes the earlier run before the new one has a complete checkpoint:
//     right before training the earlier run's outputs are renamed into <dir>/.earlier-run/; they
//     are deleted only when the new run's first checkpoint and model are written (committed()),
//     and put back when it fails before that (release), quits (process exit) or is killed (the
//     next claim of the folder finds them and puts them back);
//   - a run that fails before its first checkpoint leaves nothing behind (a folder it created is
//     removed), so no half-made output is mistaken for a result by a later run.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from '../io/fs.js';
import { hostname, process } from '../io/process.js';
import { join } from '../io/path.js';
import { UserError } from '../core/errors.js';
import { makeFolder } from '../core/paths.js';
import { writeFileAtomic } from './atomic.js';

/** The names a run writes; anything else in the folder is left alone, even by `overwrite`. */
export const RUN_OUTPUTS = ['model', 'adapter', 'checkpoints', 'metrics.jsonl', 'report.html'];
/** What a finished run delivers (a run without one and without a checkpoint was cut short). */
const DELIVERABLES = ['model', 'adapter'];
const LOCK = '.minimind.lock';
/** Where `overwrite` keeps the earlier run until the new one has its first checkpoint. */
export const EARLIER = '.earlier-run';
const DISCARD = '.earlier-run.discard';

export interface RunFolder {
  dir: string;
  /** With `overwrite`: moves the earlier run's outputs aside (call right before training). */
  setEarlierAside(): void;
  /** The new run has a complete checkpoint and model: the earlier run, set aside, goes now. */
  committed(): void;
  /**
   * Gives the lock back. After a failure before the first checkpoint, removes what the run wrote
   * and puts back an earlier run that was set aside.
   */
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

/** Renames the earlier run's outputs `names` into <dir>/.earlier-run (names.json first, so a crash part-way is undone exactly). */
function setAside(dir: string, names: string[]): void {
  const aside = join(dir, EARLIER);
  mkdirSync(aside);
  writeFileAtomic(join(aside, 'names.json'), JSON.stringify(names) + '\n');
  for (const n of names) renameSync(join(dir, n), join(aside, n));
}

/**
 * Puts an earlier run that `overwrite` set aside back in place, dropping the outputs of the run
 * that replaced it (it never reached a checkpoint, or the aside folder would be gone). Safe to
 * repeat after a crash part-way through. Returns the restored names, or null when none was aside.
 */
function restoreEarlier(dir: string): string[] | null {
  rmSync(join(dir, DISCARD), { recursive: true, force: true }); // committed, or put back; only its deletion was cut short
  const aside = join(dir, EARLIER);
  if (!existsSync(aside)) return null;
  let names: string[] | null = null;
  try {
    names = JSON.parse(readFileSync(join(aside, 'names.json'), 'utf8'));
  } catch {
    // No names.json: setAside was cut short before it (nothing was moved, and the new run had not
    // started), or this function after it (everything is back). Either way what is in `dir` is the
    // earlier run: nothing may be deleted, or a crash at the wrong moment would cost the whole run.
  }
  if (names) {
    for (const n of RUN_OUTPUTS) {
      const kept = join(aside, n);
      if (!names.includes(n)) rmSync(join(dir, n), { recursive: true, force: true });
      else if (existsSync(kept)) {
        rmSync(join(dir, n), { recursive: true, force: true });
        renameSync(kept, join(dir, n));
      } // else: never moved, or already back
    }
  }
  // renamed first, as committed() does: a deletion cut short must not look like a run set aside
  renameSync(aside, join(dir, DISCARD));
  rmSync(join(dir, DISCARD), { recursive: true, force: true });
  return names ?? [];
}

/** Why `dir`'s earlier run cannot be continued or is refused, in words shared by a rerun and --resume. */
function killedBeforeCheckpoint(dir: string, earlier: string[]): string {
  return `${dir} holds a run killed before its first checkpoint (${earlier.join(', ')}): there is nothing to continue; start it again with --overwrite, or choose another --out`;
}

/**
 * Checks that `dir` may be written by a run (see the header) and takes its lock. With
 * `overwrite`, the earlier run's outputs move aside only when `setEarlierAside()` is called,
 * right before training starts, so that a mistake found while loading the model or the data
 * costs nothing. `hasCheckpoint` says whether a resume has something to continue from.
 */
export function claimRunFolder(dir: string, opts: { resume?: boolean; overwrite?: boolean; hasCheckpoint: (dir: string) => boolean; log?: (message: string) => void }): RunFolder {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`--out ${dir} is a file, not a folder; choose another --out`);
  const created = makeFolder(dir); // removed again when the run fails before its first checkpoint (the folder is ours: locked)
  const lock = takeLock(dir);
  let earlier: string[];
  try {
    const restored = restoreEarlier(dir);
    if (restored) opts.log?.(`${dir}: put back the earlier run (${restored.join(', ')}) that an --overwrite run stopped before its first checkpoint had set aside`);
    earlier = RUN_OUTPUTS.filter((n) => existsSync(join(dir, n)));
    const cutShort = earlier.length > 0 && !opts.hasCheckpoint(dir) && !DELIVERABLES.some((n) => earlier.includes(n));
    if (opts.resume) {
      if (earlier.length === 0) throw new UserError(`--resume: ${dir} has no complete checkpoint to continue from (it holds no run); start a new run without --resume`);
      if (cutShort) throw new UserError(`--resume: ${killedBeforeCheckpoint(dir, earlier)}`);
      if (!opts.hasCheckpoint(dir)) throw new UserError(`--resume: ${dir} has no complete checkpoint to continue from (${earlier.join(', ')}); replace the run with --overwrite, or choose another --out`);
    } else if (earlier.length > 0 && !opts.overwrite) {
      if (cutShort) throw new UserError(killedBeforeCheckpoint(dir, earlier));
      throw new UserError(`${dir} already holds a run (${earlier.join(', ')}); continue it with --resume, replace it with --overwrite, or choose another --out`);
    }
  } catch (e) {
    rmSync(lock, { force: true });
    if (created) rmSync(created.path, { recursive: true, force: true }), created.remove();
    throw e;
  }
  const hadCache = existsSync(join(dir, 'cache'));
  let aside = false; // the earlier run is in <dir>/.earlier-run
  let checkpointed = false; // this run has written a complete checkpoint and model
  const onExit = () => {
    // a quit (second Ctrl-C, process.exit) before release: an earlier run set aside goes back
    if (aside) restoreEarlier(dir);
    rmSync(lock, { force: true });
  };
  process.on('exit', onExit);
  return {
    dir,
    setEarlierAside() {
      if (opts.resume || !opts.overwrite || aside || earlier.length === 0) return;
      setAside(dir, earlier);
      aside = true;
    },
    committed() {
      checkpointed = true;
      if (!aside) return;
      aside = false;
      // renamed first: a deletion cut short must not look like an earlier run to put back
      renameSync(join(dir, EARLIER), join(dir, DISCARD));
      rmSync(join(dir, DISCARD), { recursive: true, force: true });
    },
    release(failed: boolean) {
      process.off('exit', onExit);
      // A run that failed before its first checkpoint made nothing worth keeping; its metrics and
      // report would only make the next run think there is an earlier run here, and a token cache
      // it started would be a change to a folder it was told to leave as it was. An earlier run
      // that was set aside goes back; one that never was stays untouched.
      if (failed && !opts.resume && !checkpointed) {
        // (a checkpoint written before its model folder failed can still be resumed: it stays)
        const ownCheckpoint = !aside && earlier.length === 0 && opts.hasCheckpoint(dir);
        if (aside) restoreEarlier(dir);
        else if (earlier.length === 0 && !ownCheckpoint) {
          if (created) rmSync(created.path, { recursive: true, force: true }), created.remove();
          else for (const n of RUN_OUTPUTS) rmSync(join(dir, n), { recursive: true, force: true });
        }
        if (!hadCache && !ownCheckpoint) rmSync(join(dir, 'cache'), { recursive: true, force: true });
      }
      aside = false;
      rmSync(lock, { force: true });
    },
  };
}
