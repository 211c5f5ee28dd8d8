// `minimind data ...` driven through bad input: each case is one `minimind:` line on stderr,
// exit code 2, no stack trace, and the inputs untouched; good runs print their summaries and
// count unreadable rows by reason with file:line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve('dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mm-data-cli-'));
const at = (p: string) => join(dir, p);
writeFileSync(at('in.jsonl'), '{"text": "The first document is here and it is fine."}\n{"text": broken}\n{"text": "The first document is here and it is fine."}\n');
writeFileSync(at('other.jsonl'), '{"text": "x"}\n');
const before = readFileSync(at('in.jsonl'), 'utf8');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'data', ...args, '--no-progress'], { encoding: 'utf8', cwd: dir });

test('bad input to data commands: one minimind: line, exit 2, inputs untouched', () => {
  const cases: [string[], RegExp][] = [
    [['clean', 'missing.jsonl', '--output', 'o.jsonl'], /data file not found: missing\.jsonl/],
    [['clean', 'in.jsonl', '--output', 'in.jsonl'], /--output in\.jsonl is the same (file|path) as input in\.jsonl/],
    [['dedup', 'in.jsonl', '--output', 'other.jsonl'], /--output other\.jsonl already exists; choose another --output, or add --overwrite/],
    [['convert', 'in.jsonl', '--to', 'chat', '--output', 'o.jsonl'], /--to must be one of pretrain, sft, dpo, rlaif, got 'chat'/],
    [['dedup', 'in.jsonl', '--output', 'o.jsonl', '--bands', '0'], /--bands must be at least 1/],
    [['clean', 'in.jsonl', '--output', 'o.jsonl', '--form', 'NFD'], /--form must be NFC, NFKC or none/],
    [['stats', 'data.xml'], /unsupported file type '\.xml'/],
    [['split', 'in.jsonl', '--train', 't.jsonl', '--val', 't.jsonl'], /--val t\.jsonl is the same (file|path) as --train t\.jsonl/],
    [['tokenize', 'in.jsonl', '--kind', 'pretrain', '--tokenizer', 'nope', '--max-seq-len', '64', '--output', 'tok'], /--tokenizer nope: no tokenizer\.json there/],
    [['mix', '--source', 'in.jsonl:-1', '--output', 'm.jsonl'], /weight must be a number > 0/],
    [['wat'], /unknown data command 'wat'/],
    // a folder where a file is written: refused before the work, not a rename error after it
    [['clean', 'in.jsonl', '--output', 'folder'], /--output folder is a folder; give a file name/],
    [['convert', 'in.jsonl', '--to', 'pretrain', '--output', 'full', '--overwrite'], /--output full is a folder; give a file name/],
    [['stats', 'in.jsonl', '--html', 'folder'], /--html folder is a folder; give a file name/],
    // no readable row at all: an error, not an empty output and exit code 0
    [['clean', 'empty.jsonl', '--output', 'o.jsonl'], /empty\.jsonl: no rows \(empty\)/],
    [['stats', 'empty.jsonl'], /empty\.jsonl: no rows \(empty\)/],
    [['convert', 'allbad.jsonl', '--to', 'sft', '--output', 'o.jsonl'], /no readable rows in allbad\.jsonl: 2 unreadable, the first at allbad\.jsonl:1: invalid JSON/],
    [['split', 'allbad.jsonl', '--train', 'o.jsonl', '--val', 'v.jsonl'], /no readable rows in allbad\.jsonl/],
    [['stats', 'in.jsonl', '--max-seq-len', '256'], /--max-seq-len counts rows by their tokens: give --tokenizer DIR too/],
    // more threads than any machine could use: refused, not a V8 out-of-memory abort
    [['clean', 'in.jsonl', '--output', 'o.jsonl', '--threads', '100000'], /--threads 100000: at most \d+ on this machine/],
  ];
  writeFileSync(at('empty.jsonl'), '');
  writeFileSync(at('allbad.jsonl'), 'nope\n[1]\n');
  writeFileSync(at('data.xml'), '<a/>');
  mkdirSync(at('folder'));
  mkdirSync(at('full'));
  writeFileSync(at('full/x.jsonl'), '{"text": "x"}\n');
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], /^minimind: /);
    assert.match(lines[0], re, args.join(' '));
    assert.equal(readFileSync(at('in.jsonl'), 'utf8'), before);
    assert.ok(!existsSync(at('o.jsonl')));
    assert.ok(!existsSync(at('v.jsonl')));
  }
});

test('a good run prints its summary with unreadable rows counted by reason and place', () => {
  const r = run('dedup', 'in.jsonl', '--output', 'd.jsonl', '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /kept 1 of 2 rows -> d\.jsonl: removed 1 exact and 0 near duplicates in 1 clusters/);
  assert.match(r.stdout, /unreadable: 1 rows\n\s+1 {2}invalid JSON .*\(first at in\.jsonl:2\)/);
  const s = run('stats', 'in.jsonl', '--html', 'stats.html');
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /exact duplicates \(normalised\): 1 rows \(50\.0%\)/);
  assert.match(readFileSync(at('stats.html'), 'utf8'), /<svg/);
});

test('Ctrl-C mid-run: exit 130, one line, no output and no temporary file left', async () => {
  const { spawn } = await import('node:child_process');
  const { readdirSync } = await import('node:fs');
  const sub = join(dir, 'sigint');
  mkdirSync(sub);
  // ~6 MB of prose through the Gopher and C4 filters on one thread: seconds of work
  const row = JSON.stringify({ text: 'The quick brown fox jumps over the lazy dog near the river bank. '.repeat(30) });
  writeFileSync(join(sub, 'big.jsonl'), Array.from({ length: 3000 }, () => row).join('\n') + '\n');
  const child = spawn(process.execPath, [cli, 'data', 'clean', 'big.jsonl', '--output', 'out.jsonl', '--gopher', '--c4', '--threads', '1', '--no-progress'], { cwd: sub });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  // wait for the temporary output to appear (the writer opens it before the first row), then interrupt
  for (let i = 0; i < 200 && !readdirSync(sub).some((n) => n.includes('.tmp-')); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(readdirSync(sub).some((n) => n.includes('.tmp-')), 'the temporary output appeared');
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr.trim(), /^minimind: interrupted; nothing was written/);
  assert.deepEqual(readdirSync(sub), ['big.jsonl']);
});

test('temporaries left by a killed earlier run (its pid dead) are removed by the next run; a live one is kept', async () => {
  const { readdirSync } = await import('node:fs');
  const { removeStaleTemps } = await import('../../src/core/temp-paths.js');
  const sub = join(dir, 'stale');
  mkdirSync(sub);
  writeFileSync(join(sub, 'in.jsonl'), '{"text": "a row of text"}\n');
  let dead = 4_000_000; // a pid no process has: kill(pid, 0) fails with ESRCH
  for (;; dead--) {
    try {
      process.kill(dead, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') break;
    }
  }
  writeFileSync(join(sub, `.out.jsonl.tmp-${dead}`), '{"text": "half wri');
  writeFileSync(join(sub, `.out.jsonl.tmp-${process.pid}`), 'a live process is writing this');
  const r = spawnSync(process.execPath, [cli, 'data', 'clean', 'in.jsonl', '--output', 'out.jsonl', '--no-progress'], { encoding: 'utf8', cwd: sub });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(sub).sort(), [`.out.jsonl.tmp-${process.pid}`, 'in.jsonl', 'out.jsonl']);
  // a tokenized folder's temporary is a folder: the same rule (data/token-cache.ts)
  mkdirSync(join(sub, `tok.tmp-${dead}`, 'inside'), { recursive: true });
  mkdirSync(join(sub, 'tok.tmp-x'));
  removeStaleTemps(join(sub, 'tok'));
  assert.ok(!readdirSync(sub).includes(`tok.tmp-${dead}`));
  assert.ok(readdirSync(sub).includes('tok.tmp-x'), 'only <name>.tmp-<pid> names are touched');
});
