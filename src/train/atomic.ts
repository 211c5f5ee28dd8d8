// Crash-safe file and checkpoint writing. A file is written to a temporary name, fsynced and
// renamed over the target; a checkpoint is a folder written under a temporary name, fsynced,
// renamed to checkpoints/step-<N>, and only then does checkpoints/latest.json (itself written
// atomically) point at it. Ctrl-C or a crash at any moment leaves the previous checkpoint and
// the pointer intact.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync } from '../io/fs.js';
import { dirname, join } from '../io/path.js';
import { fsyncPath, writeError, writeFileAtomic } from '../core/write-file.js';
import { process } from '../io/process.js';
import { leftBySwap } from '../core/temp-paths.js';

export { writeFileAtomic };

/**
 * Runs `fill(tmp)` on a fresh folder `tmp` and fsyncs what it wrote; on any failure the folder
 * goes (no `*.tmp-PID` left behind) and a full disk is one line (writeError).
 */
export async function fillTempDir(tmp: string, fill: (dir: string) => Promise<void> | void): Promise<void> {
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp, { recursive: true });
    await fill(tmp);
    fsyncTree(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeError(e, tmp);
  }
}

/**
 * Writes a folder (a run's model/ or adapter/) so that readers see the old one or the new one,
 * never half, and never neither while the old one can still be lost: `write(tmp)` fills
 * <dir>.tmp-<pid>, which is fsynced and renamed in; the old folder is moved to <dir>.old-<pid>
 * first and deleted only once the new one is in place. Both training loops save through it.
 */
export async function writeFolderAtomic(dir: string, write: (tmp: string) => void | Promise<void>): Promise<void> {
  // a save of ours killed between the two renames below left the old folder aside: back first
  const left = existsSync(dir) ? null : leftBySwap(dir);
  if (left) renameSync(left, dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  await fillTempDir(tmp, write);
  const old = `${dir}.old-${process.pid}`;
  rmSync(old, { recursive: true, force: true });
  const hadOld = existsSync(dir);
  if (hadOld) renameSync(dir, old);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    if (hadOld) renameSync(old, dir);
    throw e;
  }
  fsyncPath(dirname(dir));
  rmSync(old, { recursive: true, force: true });
}

/** fsyncs every file under dir (after a writer that used ordinary writes). */
export function fsyncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) fsyncTree(p);
    else fsyncPath(p);
  }
  fsyncPath(dir);
}

export interface CheckpointPointer {
  step: number;
  dir: string;
}

/**
 * Writes a checkpoint: `write(tmpDir)` fills a fresh folder, which then becomes
 * <root>/step-<step>, and <root>/latest.json points at it. Older checkpoints beyond `keep` go.
 */
export async function saveCheckpointDir(root: string, step: number, write: (dir: string) => Promise<void> | void, keep = 2): Promise<string> {
  mkdirSync(root, { recursive: true });
  const name = `step-${String(step).padStart(8, '0')}`;
  const final = join(root, name);
  const tmp = join(root, `${name}.tmp-${process.pid}`);
  await fillTempDir(tmp, write);
  // A checkpoint of the same step (a resumed run saving again) is moved aside, not deleted, until
  // the new one is in place.
  const aside = `${final}.old-${process.pid}`;
  if (existsSync(final)) renameSync(final, aside);
  renameSync(tmp, final);
  fsyncPath(root);
  writeFileAtomic(join(root, 'latest.json'), JSON.stringify({ step, dir: name } satisfies CheckpointPointer) + '\n');
  // prune: keep the newest `keep` complete checkpoints, and drop leftovers of interrupted writes
  const steps = readdirSync(root)
    .filter((n) => /^step-\d+$/.test(n))
    .sort();
  for (const n of steps.slice(0, Math.max(0, steps.length - keep))) if (n !== name) rmSync(join(root, n), { recursive: true, force: true });
  for (const n of readdirSync(root)) if ((n.includes('.tmp-') || n.includes('.old-')) && n !== `latest.json.tmp-${process.pid}`) rmSync(join(root, n), { recursive: true, force: true });
  return final;
}

/**
 * True when `dir` is a complete checkpoint: trainer_state.json parses and state.safetensors has
 * every byte its header promises (a crash or a full disk can leave either cut short).
 */
export function isValidCheckpoint(dir: string): boolean {
  try {
    JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8'));
    const file = join(dir, 'state.safetensors');
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(8);
      if (readSync(fd, head, 0, 8, 0) !== 8) return false;
      const n = Number(head.readBigUInt64LE(0));
      if (n <= 0 || 8 + n > size) return false;
      const json = Buffer.alloc(n);
      readSync(fd, json, 0, n, 8);
      const header = JSON.parse(json.toString('utf8')) as Record<string, { data_offsets?: [number, number] }>;
      let end = 0;
      for (const [k, v] of Object.entries(header)) if (k !== '__metadata__' && v.data_offsets) end = Math.max(end, v.data_offsets[1]);
      return 8 + n + end === size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * The checkpoint to resume from: the one latest.json points at when it is complete, else the
 * newest complete step-* folder (latest.json itself may be missing or damaged). `warn` hears
 * about a fallback. Null when there is no complete checkpoint.
 */
export function latestCheckpointDir(root: string, warn?: (message: string) => void): string | null {
  if (!existsSync(root)) return null;
  let pointed: string | null = null;
  try {
    const ptr = JSON.parse(readFileSync(join(root, 'latest.json'), 'utf8')) as CheckpointPointer;
    if (typeof ptr.dir === 'string' && /^step-\d+$/.test(ptr.dir)) pointed = join(root, ptr.dir);
  } catch {
    /* missing or damaged pointer: look at the folders */
  }
  if (pointed && isValidCheckpoint(pointed)) return pointed;
  const steps = readdirSync(root).filter((n) => /^step-\d+$/.test(n)).sort().reverse();
  for (const n of steps) {
    const dir = join(root, n);
    if (dir !== pointed && isValidCheckpoint(dir)) {
      warn?.(`${pointed ? `checkpoint ${pointed} is incomplete or damaged` : `${join(root, 'latest.json')} is missing or damaged`}; using the newest complete checkpoint, ${dir}`);
      return dir;
    }
  }
  return null;
}
