// Run folders: an earlier run is replaced only with overwrite (and only its outputs, at the moment
// training starts), a live lock refuses a second run, a dead process's lock is taken over, and a
// run that fails before its first checkpoint leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimRunFolder } from '../../src/train/run-folder.js';
import { UserError } from '../../src/core/errors.js';

const noCheckpoint = () => false;

test('an earlier run is refused without overwrite; with it only the run outputs go, and only on clearEarlier()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-rf-'));
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'metrics.jsonl'), '{}\n');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  assert.throws(() => claimRunFolder(dir, { hasCheckpoint: noCheckpoint }), (e: Error) => e instanceof UserError && /already holds a run \(model, metrics\.jsonl\)/.test(e.message));
  assert.ok(!existsSync(join(dir, '.minimind.lock')), 'a refused claim gives the lock back');
  const f = claimRunFolder(dir, { overwrite: true, hasCheckpoint: noCheckpoint });
  assert.ok(existsSync(join(dir, 'model')), 'nothing is removed before training starts');
  f.clearEarlier();
  assert.deepEqual(readdirSync(dir).sort(), ['.minimind.lock', 'notes.txt']);
  f.release(false);
  assert.deepEqual(readdirSync(dir), ['notes.txt']);
  rmSync(dir, { recursive: true });
});

test('a live lock refuses a second run; a dead process\'s lock is taken over', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-rf-'));
  const first = claimRunFolder(dir, { hasCheckpoint: noCheckpoint });
  assert.throws(() => claimRunFolder(dir, { hasCheckpoint: noCheckpoint }), new RegExp(`another run \\(pid ${process.pid}\\) is writing to`));
  first.release(false);
  // a pid that has certainly exited: a child we waited for
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  writeFileSync(join(dir, '.minimind.lock'), JSON.stringify({ pid: Number(dead), host: hostname() }));
  const second = claimRunFolder(dir, { hasCheckpoint: noCheckpoint });
  second.release(false);
  rmSync(dir, { recursive: true });
});

test('a run that fails before its first checkpoint leaves nothing; one that checkpointed keeps everything', () => {
  const parent = mkdtempSync(join(tmpdir(), 'mm-rf-'));
  const fresh = join(parent, 'fresh');
  const a = claimRunFolder(fresh, { hasCheckpoint: noCheckpoint });
  writeFileSync(join(fresh, 'metrics.jsonl'), '{}\n');
  a.release(true);
  assert.ok(!existsSync(fresh), 'the folder the failed run created is gone');
  const kept = join(parent, 'kept');
  const b = claimRunFolder(kept, { hasCheckpoint: () => true });
  writeFileSync(join(kept, 'metrics.jsonl'), '{}\n');
  b.release(true);
  assert.ok(existsSync(join(kept, 'metrics.jsonl')));
  rmSync(parent, { recursive: true });
});
