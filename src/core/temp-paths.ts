// Temporary files and folders that outputs are written into before they are renamed into place
// (corpus/writer.ts, corpus/shuffle.ts, data/token-cache.ts). A process ended by Ctrl-C or SIGTERM
// never runs its finally blocks, so the command line's signal handler (cli/outputs.ts
// removeTempsOnSignal) removes what is listed here; without it an interrupted `minimind data`
// command left its half-written `.out.jsonl.tmp-PID` (as large as the output had grown) behind.
import { readdirSync, rmSync, statSync } from '../io/fs.js';
import { basename, dirname, join } from '../io/path.js';
import { process } from '../io/process.js';

const live = new Set<string>();

/** Lists a temporary path; the returned function takes it off the list (once renamed or removed). */
export function trackTemp(path: string): () => void {
  live.add(path);
  return () => void live.delete(path);
}

/** Removes every listed temporary path (from a signal handler, just before the process exits). */
export function removeTemps(): void {
  for (const p of live) rmSync(p, { recursive: true, force: true });
  live.clear();
}

/**
 * Removes the temporaries that dead processes left for `path` (`<dir>/<name>.tmp-<pid>`, as the
 * writers name them): a command killed by SIGKILL (a pipeline's kill, the OOM killer) cannot remove
 * its own, and every rerun would leave another one beside the output for good. A live pid's is kept.
 */
export function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no folder yet: nothing left there
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !/^\d+$/.test(n.slice(prefix.length))) continue;
    const pid = Number(n.slice(prefix.length));
    if (pid !== process.pid && !alive(pid)) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * The folder a save killed between its two renames left for `path` (train/atomic.ts
 * writeFolderAtomic moves the old folder to `<path>.old-<pid>`, then renames the new one in): the
 * newest such folder of a dead process when `path` itself is missing, else null.
 */
export function leftBySwap(path: string): string | null {
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return null;
  }
  const prefix = `${basename(path)}.old-`;
  const left = names
    .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)) && !alive(Number(n.slice(prefix.length))))
    .map((n) => join(dirname(path), n))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return left[0] ?? null;
}

/** For a "not found" message about `path`: where a save stopped mid-swap left it, and how to put it back ('' when nothing was left). */
export function swapHint(path: string): string {
  const left = leftBySwap(path);
  return left ? ` (a save stopped between two renames left the previous one in ${left}; put it back with: mv '${left}' '${path}')` : '';
}
