// The server against hostile clients, over real HTTP: web pages of other sites (no CORS headers
// unless --cors, their requests refused), DNS rebinding (a Host that is not this machine), framing
// of the page, malformed paths, requests that can never fit, prompts far over the context (refused
// before they are tokenized, so they cannot hold up /health), `Connection: close` on streams, and a
// chat template that raises. Raw requests go through node:http (fetch cannot set Host); errors
// that the official client sees are checked with the `openai` client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { readFileSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { serve, serveContext } from '../../src/serve/load.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { BatchEngine } from '../../src/serve/engine.js';
import { makeServedModel, type ServedFixture } from './fixture.js';

let fx: ServedFixture;
let srv: RunningServer;
let port: number;

before(async () => {
  fx = makeServedModel({ maxPositions: 256 });
  srv = await serve({ model: fx.folder, port: 0 });
  port = Number(new URL(srv.url).port);
});
after(async () => {
  await srv.close();
  fx.cleanup();
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function http(url: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const errorCode = (r: Reply) => (JSON.parse(r.body) as { error: { code: string } }).error.code;
const chatBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'tiny-chat', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, ...extra });

test('no CORS headers by default; a page of another origin is refused (403), its preflight too', async () => {
  let r = await http(srv.url, { path: '/v1/models' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  r = await http(srv.url, { method: 'POST', path: '/v1/chat/completions', headers: { Origin: 'http://evil.example', 'Content-Type': 'text/plain' }, body: chatBody() });
  assert.equal(r.status, 403);
  assert.equal(errorCode(r), 'forbidden_origin');
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  r = await http(srv.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' } });
  assert.equal(r.status, 403);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  assert.equal(r.headers['access-control-allow-headers'], undefined);
  r = await http(srv.url, { method: 'GET', path: '/health', headers: { Origin: 'null' } });
  assert.equal(r.status, 403, 'a sandboxed or file:// page (Origin: null) is another origin too');
  // The page we serve calls the API from our own origin.
  r = await http(srv.url, { method: 'POST', path: '/v1/chat/completions', headers: { Origin: `http://127.0.0.1:${port}`, 'Content-Type': 'application/json' }, body: chatBody() });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
});

test('Host must be this machine (with our port) or an --allowed-host name: DNS rebinding gets 403', async () => {
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
    const r = await http(srv.url, { path: '/v1/models', headers: { Host: host } });
    assert.equal(r.status, 200, host);
  }
  for (const host of [`evil.example:${port}`, 'evil.example', `localhost:${port + 1}`, 'localhost', `127.0.0.1.evil.example:${port}`, `localhost:${port}@evil`]) {
    const r = await http(srv.url, { path: '/v1/models', headers: { Host: host } });
    assert.equal(r.status, 403, host);
    assert.equal(errorCode(r), 'forbidden_host');
    assert.match(JSON.parse(r.body).error.message, /--allowed-host/);
  }
  // Bound to every interface: the machine's name and its addresses, with our port; still no other name.
  const all = await serve({ model: fx.folder, port: 0, host: '0.0.0.0' });
  try {
    const p = new URL(all.url).port;
    const lan = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    for (const host of [`${hostname()}:${p}`, `127.0.0.1:${p}`, ...(lan ? [`${lan}:${p}`] : [])]) assert.equal((await http(`http://127.0.0.1:${p}`, { path: '/health', headers: { Host: host } })).status, 200, host);
    for (const host of [`evil.example:${p}`, `10.255.255.254:${p}`]) assert.equal((await http(`http://127.0.0.1:${p}`, { path: '/health', headers: { Host: host } })).status, 403, host);
  } finally {
    await all.close();
  }
  // The page and /health are guarded as well: a rebinding page could read either.
  assert.equal((await http(srv.url, { path: '/', headers: { Host: `evil.example:${port}` } })).status, 403);
  assert.equal((await http(srv.url, { path: '/health', headers: { Host: `evil.example:${port}` } })).status, 403);
});

test('--cors ORIGIN: only that origin gets CORS headers and an answered preflight; --allowed-host NAME is accepted', async () => {
  const origin = 'http://localhost:3000';
  const s = await serve({ model: fx.folder, port: 0, cors: [origin], allowedHosts: ['chat.example.com'], apiKey: 'sk-cors' });
  try {
    let r = await http(s.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], origin);
    assert.match(r.headers['access-control-allow-headers'] as string, /Authorization/);
    assert.match(r.headers.vary as string, /Origin/);
    r = await http(s.url, { method: 'POST', path: '/v1/chat/completions', headers: { Origin: origin, Authorization: 'Bearer sk-cors', 'Content-Type': 'application/json' }, body: chatBody() });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['access-control-allow-origin'], origin);
    r = await http(s.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { Origin: 'http://localhost:3001', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(r.status, 403);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    for (const host of ['chat.example.com', 'chat.example.com:443']) {
      r = await http(s.url, { path: '/health', headers: { Host: host } });
      assert.equal(r.status, 200, host);
    }
    assert.equal((await http(s.url, { path: '/health', headers: { Host: 'other.example.com' } })).status, 403);
    // The page served through that name (over https, or with Host rewritten by the proxy) calls the API as its own site.
    for (const [host, from] of [['chat.example.com', 'https://chat.example.com'], [new URL(s.url).host, 'https://chat.example.com']]) {
      r = await http(s.url, { path: '/v1/models', headers: { Host: host, Origin: from, Authorization: 'Bearer sk-cors' } });
      assert.equal(r.status, 200, `${host} from ${from}`);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    }
    r = await http(s.url, { path: '/v1/models', headers: { Origin: 'https://chat.example.com.evil.example', Authorization: 'Bearer sk-cors' } });
    assert.equal(r.status, 403);
    // The key is still required, and a key of another length is refused the same way.
    for (const key of ['sk-cors2', 'sk-corz', '']) {
      r = await http(s.url, { path: '/v1/models', headers: { Authorization: `Bearer ${key}` } });
      assert.equal(r.status, 401, key);
    }
  } finally {
    await s.close();
  }
});

test('with an API key, the model files under /app/model/ need it as /v1 does (they are the model)', async () => {
  const s = await serve({ model: fx.folder, port: 0, apiKey: 'sk-files' });
  try {
    for (const name of ['model.safetensors', 'tokenizer.json', 'config.json']) {
      assert.equal((await http(s.url, { path: `/app/model/${name}` })).status, 401, name);
      assert.equal((await http(s.url, { path: `/app/model/${name}`, headers: { Authorization: 'Bearer sk-other' } })).status, 401, name);
      assert.equal((await http(s.url, { path: `/app/model/${name}`, headers: { Authorization: 'Bearer sk-files' } })).status, 200, name);
    }
    assert.equal((await http(s.url, { method: 'HEAD', path: '/app/model/config.json' })).status, 401, "the page's load button stays hidden");
  } finally {
    await s.close();
  }
  // without a key (the default, loopback only) the page may load them
  assert.equal((await http(srv.url, { path: '/app/model/config.json' })).status, 200);
});

test('the page may not be framed by another site', async () => {
  const r = await http(srv.url, { path: '/' });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
  assert.equal(r.headers['x-frame-options'], 'DENY');
});

test('a malformed percent-escape in the path is a 400, with nothing written to the log', async () => {
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (logged.push(String(chunk)), true)) as typeof process.stderr.write;
  let r: Reply;
  try {
    r = await http(srv.url, { path: '/v1/models/%E0%A4%A' });
  } finally {
    process.stderr.write = write;
  }
  assert.equal(r.status, 400);
  assert.equal(errorCode(r), 'invalid_uri');
  assert.deepEqual(logged, []);
  assert.equal((await http(srv.url, { path: '/v1/models/tiny%2Dchat' })).status, 200, 'a well-formed escape still decodes');
});

test('a request that can never fit is a 400 (not 429 "retry"): 200 prompts over --max-batch + --max-queue, a prompt over the context', async () => {
  const client = new OpenAI({ apiKey: 'none', baseURL: `${srv.url}/v1`, maxRetries: 0 });
  const tooMany = await client.completions.create({ model: 'tiny-chat', prompt: Array.from({ length: 200 }, () => 'Paris'), max_tokens: 1 }).catch((e: unknown) => e);
  assert.ok(tooMany instanceof OpenAI.BadRequestError, String(tooMany));
  assert.equal(tooMany.code, 'too_many_sequences');
  assert.match(tooMany.message, /200 sequences .* at most 80/);
  // 80 = 16 + 64 sequences fit on an idle server (the queue counts only what waits beyond the batch).
  const fits = await client.completions.create({ model: 'tiny-chat', prompt: Array.from({ length: 80 }, () => 'Paris'), max_tokens: 1 });
  assert.equal(fits.choices.length, 80);
  assert.equal((await client.completions.create({ model: 'tiny-chat', prompt: ['Paris', 'Tokyo'], n: 16, max_tokens: 1 })).choices.length, 32);
  const long = await client.completions.create({ model: 'tiny-chat', prompt: 'Paris '.repeat(400), max_tokens: 1 }).catch((e: unknown) => e);
  assert.ok(long instanceof OpenAI.BadRequestError, String(long));
  assert.equal(long.code, 'context_length_exceeded');
  assert.match(long.message, /maximum context length is 256 tokens/);
});

test('an over-long prompt is refused by its size before it is tokenized, and tokenizing stops at the context', async () => {
  // A served context whose tokenizer records what it is asked to encode.
  const encoded: { chars: number; ids: number }[] = [];
  const tok = fx.tokenizer;
  const encode = tok.encode.bind(tok);
  tok.encode = (text: string, maxTokens?: number) => {
    const ids = encode(text, maxTokens);
    encoded.push({ chars: text.length, ids: ids.length });
    return ids;
  };
  const engine = new BatchEngine(fx.model, { tokenizer: tok });
  const s = await startServer(serveContext(fx.model, tok, {}, engine, 'tiny-chat'), { port: 0, maxBodyBytes: 64 * 1024 * 1024 });
  try {
    const post = (path: string, body: unknown) => http(s.url, { method: 'POST', path, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const huge = 'Paris is the capital of France. '.repeat(128 * 1024); // 4 MiB
    let r = await post('/v1/completions', { model: 'tiny-chat', prompt: huge, max_tokens: 1 });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'context_length_exceeded');
    assert.match(JSON.parse(r.body).error.message, /are 4194304 bytes long: at least \d+ tokens/);
    r = await post('/v1/chat/completions', { model: 'tiny-chat', messages: [{ role: 'user', content: huge }], max_tokens: 1 });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'context_length_exceeded');
    assert.equal(encoded.length, 0, 'neither prompt reached the tokenizer');
    // Just under the size bound but over the context in tokens: tokenizing stops one word past it.
    const bound = 255 * tok.maxTokenBytes;
    const under = 'Paris '.repeat(Math.floor(bound / 6));
    r = await post('/v1/completions', { model: 'tiny-chat', prompt: under, max_tokens: 1 });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error.message, /more than 255 tokens/);
    assert.equal(encoded.length, 1);
    const full = encode(under).length;
    assert.ok(full > 2 * 256 && encoded[0].ids <= 256 + 8, `stopped at ${encoded[0].ids} of ${full} tokens`);
  } finally {
    await s.close();
    tok.encode = encode;
  }
});

// A client that reads a response to the end of the connection (HTTP/1.0 style) over a raw socket.
function readToClose(url: string, headers: string, body: string): Promise<{ head: string; text: string; closedAfterDoneMs: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    let raw = '';
    let doneAt = 0;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      raw += d;
      if (!doneAt && raw.includes('data: [DONE]')) doneAt = Date.now();
    });
    sock.on('error', reject);
    sock.on('end', () => {
      const cut = raw.indexOf('\r\n\r\n');
      resolve({ head: raw.slice(0, cut), text: raw.slice(cut + 4), closedAfterDoneMs: Date.now() - doneAt });
    });
    sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`);
  });
}

test('Connection: close from the client is honoured on streams (no forced keep-alive)', async () => {
  const r = await readToClose(srv.url, 'Connection: close\r\n', chatBody({ stream: true }));
  assert.match(r.head, /^HTTP\/1\.1 200/);
  assert.match(r.head, /\r\nConnection: close\r\n/i);
  assert.doesNotMatch(r.head, /keep-alive/i);
  assert.match(r.text, /data: \[DONE\]/);
  assert.ok(r.closedAfterDoneMs < 1000, `the server closed the connection ${r.closedAfterDoneMs} ms after [DONE] (keep-alive would hold it 5 s)`);
  // Without it, the connection stays open for the next request (HTTP/1.1's default).
  const kept = await http(srv.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'Content-Type': 'application/json', Connection: 'keep-alive' }, body: chatBody({ stream: true }) });
  assert.equal(kept.headers.connection, 'keep-alive');
});

test('a chat template that loops a billion times: 400 naming the tokenizer folder, the server answers on', async () => {
  const folder = join(fx.dir, 'loops');
  cpSync(fx.folder, folder, { recursive: true });
  const cfgPath = join(folder, 'tokenizer_config.json');
  writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), chat_template: '{% for i in range(1000000000) %}x{% endfor %}' }));
  const s = await serve({ model: folder, port: 0 });
  try {
    const client = new OpenAI({ apiKey: 'none', baseURL: `${s.url}/v1`, maxRetries: 0 });
    const e = await client.chat.completions.create({ model: 'loops', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 }).catch((x: unknown) => x);
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.match(e.message, /chat template of .*loops: range\(1000000000\) has 1000000000 elements; templates may loop at most 100000 times/);
    const ok = await client.completions.create({ model: 'loops', prompt: 'Hi', max_tokens: 2 });
    assert.equal(ok.choices.length, 1);
  } finally {
    await s.close();
  }
});

test('a chat template that calls raise_exception: 400 with the template\'s message', async () => {
  const folder = join(fx.dir, 'raising');
  cpSync(fx.folder, folder, { recursive: true });
  const cfgPath = join(folder, 'tokenizer_config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.chat_template = "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for m in messages %}{{ m.content }}{% endfor %}";
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const s = await serve({ model: folder, port: 0 });
  try {
    const client = new OpenAI({ apiKey: 'none', baseURL: `${s.url}/v1`, maxRetries: 0 });
    const e = await client.chat.completions.create({ model: 'raising', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], max_tokens: 2 }).catch((x: unknown) => x);
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.match(e.message, /System role not supported/);
    const ok = await client.chat.completions.create({ model: 'raising', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 });
    assert.equal(ok.choices.length, 1);
  } finally {
    await s.close();
  }
});
