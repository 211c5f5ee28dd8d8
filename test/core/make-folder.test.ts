// makeFolder (core/paths.ts): every output folder is made through it, and a command that fails
// removes again what it made, but only folders that are still empty: two runs started into a new
// runs/sweep/ share that parent, and the one that fails must not take the other's run with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFolder } from '../../src/core/paths.js';

test('makeFolder: the parents it made go again when empty; one another command wrote into stays', () => {
  const W = mkdtempSync(join(tmpdir(), 'mm-make-'));
  try {
    assert.equal(makeFolder(W), null, 'a folder that is there was not made');
    const lone = makeFolder(join(W, 'a', 'b', 'run'))!;
    assert.ok(existsSync(lone.path));
    lone.remove();
    assert.ok(!existsSync(join(W, 'a')), 'run, b/ and a/ all went');

    const mine = makeFolder(join(W, 'sweep', 'run1'))!;
    mkdirSync(join(W, 'sweep', 'run2'));
    writeFileSync(join(W, 'sweep', 'run2', 'metrics.jsonl'), '{}\n');
    rmSync(mine.path, { recursive: true }); // the failed run's own folder, as claimRunFolder removes it
    mine.remove();
    assert.ok(existsSync(join(W, 'sweep', 'run2', 'metrics.jsonl')), "the other run's folder stays");

    symlinkSync(join('disk', 'out'), join(W, 'link')); // a link to a folder still to be made
    const linked = makeFolder(join(W, 'link'))!;
    assert.equal(linked.path, join(W, 'disk', 'out'));
    linked.remove();
    assert.ok(lstatSync(join(W, 'link')).isSymbolicLink() && !existsSync(join(W, 'disk')), 'the link stays, what it made goes');
  } finally {
    rmSync(W, { recursive: true, force: true });
  }
});
