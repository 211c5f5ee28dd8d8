// `minimind serve` — an OpenAI-compatible HTTP server and web chat page for a model folder.
// Flags -> ServeOptions -> serve() (src/serve); the process runs until Ctrl-C.
import { readFileSync } from 'node:fs';
import { CliError, numberFlag, parseFlags, requireFlag } from '../args.js';
import { useDevice } from '../../core/device.js';

const USAGE = `Usage: minimind serve --model <folder> [options]

Serves the model over the OpenAI API (GET /v1/models, POST /v1/chat/completions,
POST /v1/completions, GET /health) and a web chat page at /. Concurrent requests are decoded
together in one batch per step.

  --model <folder>       a model folder (config.json, model.safetensors, tokenizer.json)
  --host <addr>          address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --port <n>             port (default 8998, as MiniMind's server)
  --api-key-file <file>  require 'Authorization: Bearer <key>' on /v1 routes, the key being the file's
                         first line (or set MINIMIND_API_KEY; --api-key <key> also works but shows in ps)
  --allowed-host <name>  a name clients may reach the server by besides localhost and this machine's
                         addresses, e.g. a reverse proxy's (repeatable); other Host headers get 403
  --cors <origin>        let web pages of this origin (http://host:port) call the API from a browser
                         (repeatable; '*' for any); by default no other site's page may
  --model-name <id>      the id clients send as "model" (default: the folder's name; for a training
                         run's model/ folder, the run's name, e.g. sft for runs/sft/model)
  --max-batch <n>        sequences decoded together per step (default 16)
  --max-queue <n>        sequences that may wait for a slot before requests get 429 (default 64)
  --max-prefill-tokens <n>  prompt tokens prefilled per decode step (default 512); a longer prompt is
                         prefilled in chunks, so it slows the running streams a little instead of stalling them
  --adapter <dir>        apply a LoRA adapter (PEFT layout, e.g. runs/lora/adapter) without merging
  --weights fp32|bf16|q8 weight storage for decoding (default fp32; bf16/q8 read fewer bytes per step)
  --device cpu|cuda|webgpu|auto where the model runs (default cpu)`;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(
    argv,
    {
      model: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, 'api-key': { type: 'string' }, 'api-key-file': { type: 'string' },
      cors: { type: 'string', multiple: true }, 'allowed-host': { type: 'string', multiple: true },
      'model-name': { type: 'string' }, 'max-batch': { type: 'string' }, 'max-queue': { type: 'string' }, 'max-prefill-tokens': { type: 'string' }, device: { type: 'string' },
      adapter: { type: 'string' }, weights: { type: 'string' },
    },
    USAGE,
  );
  if (!parsed) return;
  const { values } = parsed;
  const model = requireFlag(values, 'model', USAGE);
  const port = numberFlag(values, 'port', 8998);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be an integer in [0, 65535], got ${port}`);
  const maxBatch = numberFlag(values, 'max-batch', 16);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new CliError(`--max-batch must be a positive integer, got ${maxBatch}`);
  const maxQueue = numberFlag(values, 'max-queue', 64);
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new CliError(`--max-queue must be a non-negative integer, got ${maxQueue}`);
  const maxPrefillTokens = numberFlag(values, 'max-prefill-tokens', 512);
  if (!Number.isInteger(maxPrefillTokens) || maxPrefillTokens < 1) throw new CliError(`--max-prefill-tokens must be a positive integer, got ${maxPrefillTokens}`);
  const apiKey = apiKeyOf(values);
  const cors = (values.cors ?? []) as string[];
  // An origin is scheme://host[:port] as browsers send it (http, https, chrome-extension, vscode-webview, ...).
  for (const o of cors) if (o !== '*' && !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(o)) throw new CliError(`--cors takes an origin such as http://localhost:3000 (scheme, host and port, no path) or '*', got '${o}'`);
  const allowedHosts = (values['allowed-host'] ?? []) as string[];
  for (const h of allowedHosts) if (!/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:.]+\]?$/.test(h)) throw new CliError(`--allowed-host takes a host name such as chat.example.com (no scheme, port or path), got '${h}'`);
  const weights = values.weights ?? 'fp32';
  if (!['fp32', 'bf16', 'q8'].includes(weights as string)) throw new CliError(`--weights must be fp32, bf16 or q8, got '${String(weights)}'`);
  useDevice(typeof values.device === 'string' ? values.device : 'cpu'); // a DeviceError is one line from main.ts
  const { serve } = await import('../../serve/load.js');
  // The library's UserErrors (missing folder, port in use, ...) are printed by main.ts as one line.
  const running = await serve({
    model, port, maxBatch, maxQueue, maxPrefillTokens,
    host: typeof values.host === 'string' ? values.host : '127.0.0.1',
    apiKey, cors, allowedHosts: allowedHosts.map((h) => h.replace(/^\[|\]$/g, '')),
    modelName: typeof values['model-name'] === 'string' ? values['model-name'] : undefined,
    adapter: typeof values.adapter === 'string' ? values.adapter : undefined,
    weights: weights as 'fp32' | 'bf16' | 'q8',
  });
  console.log(`minimind serve: ${running.url}  (chat page: ${running.url}/ ; OpenAI base URL: ${running.url}/v1)`);
  const stop = () => {
    console.log('minimind serve: shutting down');
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// The key from --api-key-file (its first line), --api-key, or MINIMIND_API_KEY; at most one flag.
function apiKeyOf(values: Record<string, unknown>): string | undefined {
  const file = values['api-key-file'];
  if (typeof file === 'string' && typeof values['api-key'] === 'string') throw new CliError('give the key once: --api-key-file or --api-key, not both');
  let key: string | undefined;
  let from = '';
  if (typeof file === 'string') {
    try {
      key = readFileSync(file, 'utf8').split(/\r?\n/)[0].trim();
    } catch (e) {
      throw new CliError(`--api-key-file: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    from = `--api-key-file ${file}: the first line`;
  } else if (typeof values['api-key'] === 'string') {
    key = values['api-key'];
    from = '--api-key';
  } else if (process.env.MINIMIND_API_KEY !== undefined) {
    key = process.env.MINIMIND_API_KEY;
    from = 'MINIMIND_API_KEY';
  }
  if (key === '') throw new CliError(`${from} is empty; give a key or leave it out to serve without one`);
  return key;
}
