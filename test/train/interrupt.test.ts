// Ctrl-C and crashes: a real `minimind pretrain` process is interrupted (SIGINT: it saves and
// stops; SIGKILL: it dies mid-step, possibly mid-save) and `--resume` always finds a complete
// checkpoint and finishes the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';

const TOK = '../shared/data/minimind-tokenizer/head';
const skip = existsSync(TOK) ? false : `${TOK} not found (shared data absent)`;
const cli = 'dist/src/cli/main.js';

function setup(): { dir: string; args: (out: string) => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mm-int-'));
  const f = join(dir, 'p.jsonl');
  writeFileSync(f, generateQuickstartData(1).pretrainTexts.slice(0, 32).map((text) => JSON.stringify({ text })).join('\n'));
  const args = (out: string) => [cli, 'pretrain', '--data', f, '--tokenizer', TOK, '--preset', 'tiny-3', '--hidden-size', '32', '--num-hidden-layers', '1', '--max-seq-len', '32', '--batch-size', '4', '--epochs', '40', '--log-interval', '1', '--save-interval', '3', '--out', out];
  return { dir, args };
}

/** Starts the command and sends `signal` once stderr shows `after` progress lines. */
function runAndSignal(argv: string[], signal: NodeJS.Signals, after: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = false;
    p.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && (stderr.match(/^pretrain /gm) ?? []).length >= after) {
        sent = true;
        p.kill(signal);
      }
    });
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('Ctrl-C saves a checkpoint after the current step, exits 130 naming it, and --resume finishes the run', { skip }, async () => {
  const { dir, args } = setup();
  const out = join(dir, 'run');
  const r = await runAndSignal(args(out), 'SIGINT', 5);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted: saving a checkpoint/);
  const m = /stopped at step (\d+)\/(\d+)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  const latest = JSON.parse(readFileSync(join(out, 'checkpoints', 'latest.json'), 'utf8'));
  assert.equal(latest.step, Number(m![1]));
  const named = /minimind: interrupted at step (\d+); checkpoint (\S+);/.exec(r.stderr);
  assert.ok(named, r.stderr);
  assert.equal(named![2], join(out, 'checkpoints', latest.dir));
  const resumed = spawnSync(process.execPath, [...args(out), '--resume', '--quiet'], { encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
  assert.equal(steps[steps.length - 1], Number(m![2]));
  assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b)); // no step logged twice
  rmSync(dir, { recursive: true });
});

test('a crash (SIGKILL) at any moment leaves a checkpoint that --resume can use', { skip }, async () => {
  const { dir, args } = setup();
  const out = join(dir, 'run');
  for (const after of [7, 12]) {
    const r = await runAndSignal(args(out).concat(after === 12 ? ['--resume'] : []), 'SIGKILL', after === 12 ? 3 : after);
    assert.equal(r.code, null);
  }
  assert.ok(existsSync(join(out, 'checkpoints', 'latest.json')));
  const resumed = spawnSync(process.execPath, [...args(out), '--resume', '--quiet'], { encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(existsSync(join(out, 'model', 'model.safetensors')));
  rmSync(dir, { recursive: true });
});
