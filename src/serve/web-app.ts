// The in-browser page under /app (built by scripts/build-web.mjs into dist/web/app): the library runs
// in the visitor's tab, so these routes only hand out files — the page's own (a fixed list) and the
// served model folder's (config, weights, tokenizer) for its "Load the server's model" button.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { makeFolder } from '../core/paths.js';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { errors } from './errors.js';

const APP_DIR = new URL('../../web/app/', import.meta.url);
const PAGE_FILES: Record<string, string> = { 'index.html': 'text/html; charset=utf-8', 'app.js': 'text/javascript', 'worker.js': 'text/javascript', 'webgpu-worker.js': 'text/javascript', 'style.css': 'text/css', 'app.js.map': 'application/json', 'worker.js.map': 'application/json', 'webgpu-worker.js.map': 'application/json' };
export const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];

// Same-origin only; cross-origin isolation (COOP + COEP) gives the page SharedArrayBuffer, which
// the WebGPU backend's blocking reads need.
const HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' blob: data:; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

/** Answers GET /app[/...]; false for other paths. */
export function serveWebApp(path: string, method: string, res: ServerResponse, modelDir: string | undefined): boolean {
  if (path !== '/app' && !path.startsWith('/app/')) return false;
  if (method !== 'GET' && method !== 'HEAD') throw errors.methodNotAllowed(method, path, 'GET');
  if (path === '/app') {
    res.writeHead(301, { Location: '/app/' });
    res.end();
    return true;
  }
  const name = path.slice('/app/'.length) || 'index.html';
  let file: string | null = null;
  let type = 'application/octet-stream';
  if (name in PAGE_FILES) {
    file = new URL(name, APP_DIR).pathname;
    type = PAGE_FILES[name];
  } else if (name.startsWith('model/') && modelDir && MODEL_FILES.includes(name.slice('model/'.length))) {
    file = join(modelDir, name.slice('model/'.length));
    if (name.endsWith('.json')) type = 'application/json';
  }
  if (!file || !existsSync(file)) {
    if (name in PAGE_FILES) throw errors.notFound(method, `${path} (the page is not built: run npm run build:web)`);
    throw errors.notFound(method, path);
  }
  const body = readFileSync(file);
  res.writeHead(200, { ...HEADERS, 'Content-Type': type, 'Content-Length': body.length });
  res.end(method === 'HEAD' ? undefined : body);
  return true;
}

/**
 * Writes the page as a static folder (`minimind web build`): index.html, app.js, worker.js,
 * style.css, and with `modelDir` that folder's files under model/, for the "Load the server's
 * model" button. Any static file server can host it; nothing is loaded from other hosts.
 */
export function writeSite(out: string, modelDir?: string): string[] {
  const written: string[] = [];
  const missing = Object.keys(PAGE_FILES).find((name) => !name.endsWith('.map') && !existsSync(new URL(name, APP_DIR).pathname));
  if (missing) throw new UserError(`the page is not built (${new URL(missing, APP_DIR).pathname} is missing); run npm run build:web`);
  makeFolder(out);
  for (const name of Object.keys(PAGE_FILES)) {
    const from = new URL(name, APP_DIR).pathname;
    if (!existsSync(from)) continue; // a source map the build did not write
    copyFileSync(from, join(out, name));
    written.push(name);
  }
  if (modelDir) {
    mkdirSync(join(out, 'model'), { recursive: true });
    for (const name of MODEL_FILES) {
      if (!existsSync(join(modelDir, name))) continue;
      copyFileSync(join(modelDir, name), join(out, 'model', name));
      written.push(`model/${name}`);
    }
  }
  return written;
}
