// The HTTP server: Node's own http module, one process. Routes:
//   GET  /                     the web chat page (src/serve/web/chat.html, no external assets)
//   GET  /app/                 the in-browser page (web-app.ts: MiniMind computed in the visitor's tab)
//   GET  /health               {"status": "ok", ...batch counters}
//   GET  /v1/models[/{id}]     the served model
//   POST /v1/chat/completions  chat.ts
//   POST /v1/completions       completions.ts
// Every request first passes access.ts (Host, Origin/CORS, API key). Every failure is an OpenAI
// error object with its status (errors.ts); a handler that throws answers that request and nothing
// else, so a bad request never takes the server down.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { handleChat } from './chat.js';
import { handleCompletion } from './completions.js';
import { sendJson, type ServeContext } from './context.js';
import { ApiError, errors } from './errors.js';
import { Access, type AccessOptions } from './access.js';
import { serveWebApp } from './web-app.js';

export interface ServerOptions extends AccessOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Request bodies above this many bytes get 413 (default 4 MiB). */
  maxBodyBytes?: number;
  /** The served model folder, whose files the /app page may fetch to run the model in the tab. */
  modelDir?: string;
}

export interface RunningServer {
  /** http://host:port */
  url: string;
  server: Server;
  close(): Promise<void>;
}

const PAGE = new URL('../../../src/serve/web/chat.html', import.meta.url);

export function startServer(ctx: ServeContext, opts: ServerOptions = {}): Promise<RunningServer> {
  const page = readFileSync(PAGE);
  const limit = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const host = opts.host ?? '127.0.0.1';
  let access: Access | undefined; // made once the port is known (--port 0)
  const server = createServer((req, res) => {
    route(ctx, access!, page, limit, opts.modelDir, req, res).catch((e: unknown) => fail(res, e));
  });
  // Streams can run for minutes: no request timeout (Node 18+ defaults to 5 minutes).
  server.requestTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8998, host, () => {
      server.off('error', reject);
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : (opts.port ?? 8998);
      access = new Access(opts, { host, port });
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            ctx.engine.close();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function route(ctx: ServeContext, access: Access, page: Buffer, limit: number, modelDir: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  if (access.admit(req, res)) return; // a preflight, answered
  if (path === '/' || path === '/index.html') {
    allow(method, path, 'GET');
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': page.length,
      // Everything the page uses is inline and same-origin; nothing may load from elsewhere, and no
      // other site may frame it (clickjacking).
      'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
      'X-Frame-Options': 'DENY',
    });
    res.end(page);
    return;
  }
  // The served folder's files are the model itself: behind the key, as the /v1 routes are.
  if (path.startsWith('/app/model/')) access.checkKey(req);
  if (serveWebApp(path, method, res, modelDir)) return;
  if (path === '/health') {
    allow(method, path, 'GET');
    sendJson(res, 200, { status: 'ok', model: ctx.modelName, ...ctx.engine.stats() });
    return;
  }
  if (!path.startsWith('/v1/')) throw errors.notFound(method, path);
  access.checkKey(req);
  if (path === '/v1/models') {
    allow(method, path, 'GET');
    sendJson(res, 200, { object: 'list', data: [modelCard(ctx)] });
  } else if (path.startsWith('/v1/models/')) {
    allow(method, path, 'GET');
    const id = decodePath(path.slice('/v1/models/'.length));
    if (id !== ctx.modelName) throw errors.unknownModel(id, ctx.modelName);
    sendJson(res, 200, modelCard(ctx));
  } else if (path === '/v1/chat/completions') {
    allow(method, path, 'POST');
    handleChat(ctx, await readJson(req, limit), res);
  } else if (path === '/v1/completions') {
    allow(method, path, 'POST');
    handleCompletion(ctx, await readJson(req, limit), res);
  } else throw errors.notFound(method, path);
}

function modelCard(ctx: ServeContext): Record<string, unknown> {
  return { id: ctx.modelName, object: 'model', created: ctx.created, owned_by: 'minimind', max_model_len: ctx.contextLength };
}

function allow(method: string, path: string, allowed: string): void {
  if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) throw errors.methodNotAllowed(method, path, allowed);
}

function decodePath(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw errors.badUri(); // a malformed %-escape is the client's mistake, not ours
  }
}

// Reads the whole body (at most `limit` bytes) and parses it as JSON. A larger body is read to its
// end and dropped (so the client can read our 413 instead of a reset connection), up to a bound.
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = declared > limit;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > 64 * limit) req.destroy(); // not worth draining
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (tooLarge) return reject(errors.tooLarge(limit));
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return reject(errors.invalidJson('the body is empty'));
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(errors.invalidJson((e as Error).message));
      }
    });
  });
}

function fail(res: ServerResponse, e: unknown): void {
  const err = e instanceof ApiError ? e : errors.internal((e as Error)?.message ?? String(e));
  if (!(e instanceof ApiError)) process.stderr.write(`minimind serve: ${(e as Error)?.stack ?? String(e)}\n`);
  if (res.headersSent) {
    res.end();
    return;
  }
  if (err.status === 413) res.setHeader('Connection', 'close');
  sendJson(res, err.status, err.toJSON());
}
