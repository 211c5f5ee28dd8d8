// Crash-safe file and checkpoint writing. A file is written to a temporary name, fsynced and
// renamed over the target; a checkpoint is a folder written under a temporary name, fsynced,
// renamed to checkpoints/step-<N>, and only then does checkpoints/latest.json (itself written
// atomically) point at it. Ctrl-C or a crash at any moment leaves the previous checkpoint and
// the pointer intact.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

function fsyncPath(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some filesystems refuse fsync on directories; the rename is still atomic */
  }
}

/** Writes `data` to `path` so that readers see either the old or the new content, never half. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncPath(dirname(path));
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
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await write(tmp);
  fsyncTree(tmp);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncPath(root);
  writeFileAtomic(join(root, 'latest.json'), JSON.stringify({ step, dir: name } satisfies CheckpointPointer) + '\n');
  // prune: keep the newest `keep` complete checkpoints, and drop leftovers of interrupted writes
  const steps = readdirSync(root)
    .filter((n) => /^step-\d+$/.test(n))
    .sort();
  for (const n of steps.slice(0, Math.max(0, steps.length - keep))) if (n !== name) rmSync(join(root, n), { recursive: true, force: true });
  for (const n of readdirSync(root)) if (n.includes('.tmp-') && n !== `latest.json.tmp-${process.pid}`) rmSync(join(root, n), { recursive: true, force: true });
  return final;
}

/** The folder latest.json points at, or null when there is no complete checkpoint. */
export function latestCheckpointDir(root: string): string | null {
  const p = join(root, 'latest.json');
  if (!existsSync(p)) return null;
  const ptr = JSON.parse(readFileSync(p, 'utf8')) as CheckpointPointer;
  const dir = join(root, ptr.dir);
  return existsSync(dir) ? dir : null;
}
