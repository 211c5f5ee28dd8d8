import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const cli = 'dist/src/cli/main.js';

test('minimind --version prints the package version', () => {
  const r = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), JSON.parse(readFileSync('package.json', 'utf8')).version);
});

test('minimind --help lists the commands', () => {
  const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const c of ['tokenizer', 'pretrain', 'sft', 'generate', 'quickstart']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

test('an unknown command fails with a one-line error', () => {
  const r = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});
