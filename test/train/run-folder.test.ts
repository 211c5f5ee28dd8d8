// Run folders: an earlier run is replaced only with overwrite (and only its outputs, set aside at
// the moment training starts and deleted only after the new run's first checkpoint: a failure,
// quit or kill before it puts the earlier run back), a live lock refuses a second run, a dead
// process's lock is taken over, and a run that fails before its first checkpoint leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimRunFolder, EARLIER } from '../../src/train/run-folder.js';
import { UserError } from '../../src/core/errors.js';

const noCheckpoint = () => false;

test('an earlier run is refused without overwrite; with it only the run outputs move aside, on setEarlierAside(), and go on committed()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-rf-'));
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'model', 'w'), 'earlier weights');
  writeFileSync(join(dir, 'metrics.jsonl'), '{}\n');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  assert.throws(() => claimRunFolder(dir, { hasCheckpoint: noCheckpoint }), (e: Error) => e instanceof UserError && /already holds a run \(model, metrics\.jsonl\)/.test(e.message));
  assert.ok(!existsSync(join(dir, '.minimind.lock')), 'a refused claim gives the lock back');
  const f = claimRunFolder(dir, { overwrite: true, hasCheckpoint: noCheckpoint });
  assert.ok(existsSync(join(dir, 'model')), 'nothing is moved before training starts');
  f.setEarlierAside();
  assert.deepEqual(readdirSync(dir).sort(), ['.earlier-run', '.minimind.lock', 'notes.txt']);
  assert.equal(readFileSync(join(dir, EARLIER, 'model', 'w'), 'utf8'), 'earlier weights');
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'metrics.jsonl'), '{"new": 1}\n');
  f.committed();
  f.release(false);
  assert.deepEqual(readdirSync(dir).sort(), ['metrics.jsonl', 'model', 'notes.txt']);
  assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), '{"new": 1}\n');
  rmSync(dir, { recursive: true });
});

/** An earlier run: model/, checkpoints/, metrics.jsonl, and a file of the user's. */
function earlierRun(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mm-rf-'));
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'model', 'w'), 'earlier weights');
  mkdirSync(join(dir, 'checkpoints', 'step-00000005'), { recursive: true });
  writeFileSync(join(dir, 'checkpoints', 'step-00000005', 'state'), 'earlier state');
  writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 5}\n');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  return dir;
}

function tree(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel)).sort().flatMap((n) => {
    const r = rel ? `${rel}/${n}` : n;
    return statSync(join(dir, r)).isDirectory() ? [r + '/', ...tree(dir, r)] : [`${r}=${readFileSync(join(dir, r), 'utf8')}`];
  });
}

test('overwrite: a new run that fails before its first checkpoint puts the earlier run back, byte for byte', () => {
  const dir = earlierRun();
  const before = tree(dir);
  const f = claimRunFolder(dir, { overwrite: true, hasCheckpoint: noCheckpoint });
  f.setEarlierAside();
  writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 1, "loss": NaN}\n');
  writeFileSync(join(dir, 'report.html'), 'new');
  mkdirSync(join(dir, 'checkpoints', 'step-00000001.tmp-1'), { recursive: true });
  mkdirSync(join(dir, 'cache', 'sft-1'), { recursive: true }); // the failed run's token cache goes too
  writeFileSync(join(dir, 'cache', 'sft-1', 'ids.bin'), 'ids');
  f.release(true);
  assert.deepEqual(tree(dir), before);
  // a cache that was there before the run stays (with what the failed run added to it)
  mkdirSync(join(dir, 'cache', 'pretrain-0'), { recursive: true });
  const g = claimRunFolder(dir, { overwrite: true, hasCheckpoint: noCheckpoint });
  g.setEarlierAside();
  mkdirSync(join(dir, 'cache', 'sft-1'));
  g.release(true);
  assert.deepEqual(readdirSync(join(dir, 'cache')).sort(), ['pretrain-0', 'sft-1']);
  rmSync(dir, { recursive: true });
});

/** Runs, in a child process, an overwrite claim of `dir` that sets the earlier run aside, writes a new metrics.jsonl and then `end`s. */
function childRun(dir: string, end: string): ReturnType<typeof spawnSync> {
  const script = `import { claimRunFolder } from ${JSON.stringify(new URL('../../src/train/run-folder.js', import.meta.url).href)};
    import { writeFileSync } from 'node:fs';
    const f = claimRunFolder(${JSON.stringify(dir)}, { overwrite: true, hasCheckpoint: () => false });
    f.setEarlierAside();
    writeFileSync(${JSON.stringify(join(dir, 'metrics.jsonl'))}, '{"step": 1}');
    ${end};`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

test('overwrite: a run killed before its first checkpoint is undone by the next claim; a quit (process.exit) undoes itself', () => {
  const dir = earlierRun();
  const before = tree(dir);
  const killed = childRun(dir, "process.kill(process.pid, 'SIGKILL')");
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(existsSync(join(dir, EARLIER, 'model', 'w')), 'the killed run had set the earlier run aside');
  const said: string[] = [];
  assert.throws(() => claimRunFolder(dir, { hasCheckpoint: noCheckpoint, log: (m) => said.push(m) }), /already holds a run \(model, checkpoints, metrics\.jsonl\)/);
  assert.match(said.join('\n'), /put back the earlier run \(model, checkpoints, metrics\.jsonl\)/);
  assert.deepEqual(tree(dir), before);

  const quit = childRun(dir, 'process.exit(130)'); // as the second Ctrl-C does
  assert.equal(quit.status, 130, String(quit.stderr));
  assert.deepEqual(tree(dir), before, 'the earlier run is back and the lock is gone');
  rmSync(dir, { recursive: true });
});

test('overwrite: a kill that leaves .earlier-run without names.json (inside setAside before it, or inside the put-back after it) costs nothing', () => {
  // Either way the run outputs in the folder are the earlier run's. Once the next claim took the
  // missing list for "nothing was set aside" and deleted every one of them as the new run's: the
  // whole earlier run was lost (seen for real: a launch --overwrite job stopped by SIGTERM, rank 0
  // killed part-way through putting the run back, then a plain rerun).
  const dir = earlierRun();
  const before = tree(dir);
  mkdirSync(join(dir, EARLIER));
  const said: string[] = [];
  assert.throws(() => claimRunFolder(dir, { hasCheckpoint: noCheckpoint, log: (m) => said.push(m) }), /already holds a run \(model, checkpoints, metrics\.jsonl\)/);
  assert.deepEqual(tree(dir), before, 'nothing deleted, the empty folder gone');
  // the same with the new run's lock still there (its process died) and --overwrite: still refused to lose anything before a checkpoint
  mkdirSync(join(dir, EARLIER));
  writeFileSync(join(dir, '.minimind.lock'), JSON.stringify({ pid: 999999999, host: hostname() }));
  const f = claimRunFolder(dir, { overwrite: true, hasCheckpoint: noCheckpoint });
  f.release(true);
  assert.deepEqual(tree(dir), before);
  rmSync(dir, { recursive: true });
});

test('overwrite: a deletion of the set-aside run cut short after commit is finished, not restored', () => {
  const dir = earlierRun();
  const f = claimRunFolder(dir, { overwrite: true, hasCheckpoint: () => true });
  f.setEarlierAside();
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'model', 'w'), 'new weights');
  f.committed();
  // as if the process died inside committed(), between its rename and its delete
  mkdirSync(join(dir, '.earlier-run.discard', 'model'), { recursive: true });
  writeFileSync(join(dir, '.earlier-run.discard', 'model', 'w'), 'earlier weights');
  f.release(false);
  const g = claimRunFolder(dir, { resume: true, hasCheckpoint: () => true });
  g.release(false);
  assert.deepEqual(readdirSync(dir).sort(), ['model', 'notes.txt']);
  assert.equal(readFileSync(join(dir, 'model', 'w'), 'utf8'), 'new weights');
  rmSync(dir, { recursive: true });
});

test('a run killed before its first checkpoint: a plain rerun and --resume both say so and suggest --overwrite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-rf-'));
  writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 1}\n');
  mkdirSync(join(dir, 'checkpoints', 'step-00000010.tmp-99'), { recursive: true });
  const killed = /holds a run killed before its first checkpoint \(checkpoints, metrics\.jsonl\): there is nothing to continue; start it again with --overwrite, or choose another --out/;
  assert.throws(() => claimRunFolder(dir, { hasCheckpoint: noCheckpoint }), killed);
  assert.throws(() => claimRunFolder(dir, { resume: true, hasCheckpoint: noCheckpoint }), (e: Error) => e.message.startsWith('--resume: ') && killed.test(e.message));
  assert.throws(() => claimRunFolder(join(dir, 'none'), { resume: true, hasCheckpoint: noCheckpoint }), /--resume: .*none has no complete checkpoint to continue from \(it holds no run\); start a new run without --resume/);
  const f = claimRunFolder(dir, { overwrite: true, hasCheckpoint: noCheckpoint });
  f.release(false);
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
