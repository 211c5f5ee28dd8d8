// `minimind serve` as a command: it prints where it listens, answers, shuts down on Ctrl-C, and
// bad input is one `minimind:` line with exit code 2 (never a stack trace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeServedModel, type ServedFixture } from './fixture.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';

const CLI = 'dist/src/cli/main.js';
let fx: ServedFixture;
before(() => {
  fx = makeServedModel();
});
after(() => fx.cleanup());

function fails(args: string[], pattern: RegExp): void {
  const r = spawnSync(process.execPath, [CLI, 'serve', ...args], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^minimind: /);
  assert.match(r.stderr, pattern);
  assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace:\n${r.stderr}`);
}

test('serve: bad input is one clear line, exit 2', async () => {
  fails([], /--model is required/);
  fails(['--model', '/nonexistent/folder'], /model folder not found: \/nonexistent\/folder/);
  fails(['--model', fx.folder, '--port', 'eighty'], /--port must be a number/);
  fails(['--model', fx.folder, '--port', '70000'], /--port must be an integer in \[0, 65535\]/);
  fails(['--model', fx.folder, '--device', 'tpu'], /--device must be cpu, cuda, webgpu or auto/);
  fails(['--model', fx.folder, '--weights', 'int4'], /--weights must be fp32, bf16 or q8/);
  fails(['--model', fx.folder, '--adapter', '/nonexistent/adapter'], /adapter folder not found/);
  fails(['--model', fx.folder, '--max-batch', '0'], /--max-batch must be a positive integer/);
  // A tokenizer with more ids than the model has embedding rows would make the server answer garbage or 500.
  const small = join(fx.dir, 'small-vocab');
  saveModelFolder(small, new MiniMindForCausalLM({ ...fx.model.config, vocab_size: 300 }, { seed: 1 }), { tokenizerDir: fx.folder });
  fails(['--model', small], /has 420 tokens but the model in .* only 300 embedding rows/);
  fails(['--model', fx.folder, '--host', '999.1.1.1'], /cannot listen on --host 999\.1\.1\.1: not an address of this machine/);
  fails(['--model', fx.folder, '--cors', 'localhost:3000'], /--cors takes an origin such as http:\/\/localhost:3000/);
  fails(['--model', fx.folder, '--cors', 'http://localhost:3000/chat'], /no path/);
  fails(['--model', fx.folder, '--allowed-host', 'http://chat.example.com/'], /--allowed-host takes a host name/);
  fails(['--model', fx.folder, '--api-key-file', join(fx.dir, 'no-such-key')], /--api-key-file: cannot read .*no-such-key \(ENOENT\)/);
  writeFileSync(join(fx.dir, 'empty-key'), '\n');
  fails(['--model', fx.folder, '--api-key-file', join(fx.dir, 'empty-key')], /the first line is empty/);
  fails(['--model', fx.folder, '--api-key-file', join(fx.dir, 'empty-key'), '--api-key', 'k'], /--api-key-file or --api-key, not both/);
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as { port: number }).port;
  try {
    fails(['--model', fx.folder, '--port', String(port)], new RegExp(`port ${port} on 127.0.0.1 is already in use`));
  } finally {
    busy.close();
  }
});

function start(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', fx.folder, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^minimind serve: (http:\/\/127\.0\.0\.1:\d+) /m.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  return { child, url };
}

test('serve: the API key from --api-key-file (first line) or MINIMIND_API_KEY, off the command line', async () => {
  const keyFile = join(fx.dir, 'key');
  writeFileSync(keyFile, 'sk-from-file\nignored second line\n');
  for (const [args, env, key] of [
    [['--api-key-file', keyFile], process.env, 'sk-from-file'],
    [[], { ...process.env, MINIMIND_API_KEY: 'sk-from-env' }, 'sk-from-env'],
  ] as const) {
    const { child, url } = start([...args], env);
    try {
      const base = await url;
      const models = (auth?: string) => fetch(`${base}/v1/models`, { headers: auth ? { Authorization: `Bearer ${auth}` } : {} });
      assert.equal((await models()).status, 401);
      assert.equal((await models('sk-wrong')).status, 401);
      assert.equal((await models(key)).status, 200);
      assert.ok(!child.spawnargs.some((a) => a.includes(key)), 'the key is not in the process arguments');
    } finally {
      child.kill('SIGKILL');
    }
  }
});

test('serve: prints its URL, answers /health and the page, stops on SIGINT', async () => {
  const { child, url: started } = start(['--weights', 'bf16']);
  try {
    const url = await started;
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string; model: string };
    assert.deepEqual([health.status, health.model], ['ok', 'tiny-chat']);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/);
    assert.match(await page.text(), /<title>MiniMind chat<\/title>/);
    const r = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'tiny-chat', prompt: 'Paris', max_tokens: 3 }) });
    assert.equal(r.status, 200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
