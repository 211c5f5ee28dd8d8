// Serves a model folder: the folder opened for inference (formats/inference-folder.ts: weights,
// tokenizer, generation_config.json defaults and stop tokens) and the batch engine around it.
// `serve()` is what `minimind serve` calls.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { contextLength, generationDefaults, loadInferenceFolder, stopTokenIds } from '../formats/inference-folder.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { UserError } from '../core/errors.js';
import type { WeightFormat } from '../nn/inference-weights.js';
import type { ServeContext } from './context.js';
import { BatchEngine } from './engine.js';
import { startServer, type RunningServer, type ServerOptions } from './server.js';

export interface ServeOptions extends ServerOptions {
  /** The model folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json). */
  model: string;
  /** The id clients send as `model` (default: servedName(model), the folder's or its run's name). */
  modelName?: string;
  /** Sequences decoded together per step (default 16). */
  maxBatch?: number;
  /** Sequences allowed to wait for a slot before requests get 429 (default 64). */
  maxQueue?: number;
  /** Prompt tokens prefilled per decode step at most (default 512); longer prompts are prefilled in chunks. */
  maxPrefillTokens?: number;
  /** A LoRA adapter folder (PEFT layout) applied on top of the model, unmerged. */
  adapter?: string;
  /** Weight storage for decoding (default fp32): bf16 or q8 read 2 or 1.125 bytes per weight (nn/inference-weights.ts). */
  weights?: WeightFormat;
}

/** Loads the folder and starts serving it. */
export async function serve(opts: ServeOptions): Promise<RunningServer> {
  // Node listens on every interface for an empty host: an unset variable in `--host "$HOST"` must
  // not open the model to the network.
  if (opts.host !== undefined && opts.host.trim() === '') throw new UserError(`--host is empty; give an address: 127.0.0.1 (this machine only, the default), 0.0.0.0 (every interface) or one of its addresses`);
  const { model, tokenizer, generationConfig } = loadInferenceFolder(opts.model, opts);
  const engine = new BatchEngine(model, { tokenizer, maxBatch: opts.maxBatch, maxQueue: opts.maxQueue, maxPrefillTokens: opts.maxPrefillTokens });
  const ctx = serveContext(model, tokenizer, generationConfig, engine, opts.modelName ?? servedName(opts.model));
  try {
    return await startServer(ctx, { ...opts, modelDir: opts.model });
  } catch (e) {
    engine.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new UserError(`port ${opts.port} on ${opts.host ?? '127.0.0.1'} is already in use; pick another with --port`);
    if (err.code === 'EACCES') throw new UserError(`no permission to listen on port ${opts.port}; use a port above 1023`);
    const where = opts.host ?? '127.0.0.1';
    if (err.code === 'EADDRNOTAVAIL') throw new UserError(`cannot listen on --host ${where}: no such address on this machine`);
    if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EAI_FAIL' || err.code === 'EAI_NONAME') {
      throw new UserError(`cannot listen on --host ${where}: not an address of this machine; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its addresses`);
    }
    throw new UserError(`cannot listen on ${where} port ${opts.port}: ${err.message}`);
  }
}

/**
 * The id a model folder is served as: the folder's name, or for the `model` folder of a training
 * run (runs/sft/model, beside its metrics.jsonl or checkpoints/) the run's name, "sft".
 */
export function servedName(dir: string): string {
  const abs = resolve(dir);
  const run = dirname(abs);
  if (basename(abs) === 'model' && ['metrics.jsonl', 'checkpoints'].some((f) => existsSync(join(run, f)))) return basename(run);
  return basename(abs);
}

/** The handlers' shared state for a loaded model. */
export function serveContext(model: MiniMindForCausalLM, tokenizer: Tokenizer, generationConfig: Record<string, unknown>, engine: ServeContext['engine'], modelName: string): ServeContext {
  return {
    engine,
    tokenizer,
    modelName,
    contextLength: contextLength(model.config, generationConfig),
    stopTokenIds: stopTokenIds(model.config, tokenizer, generationConfig),
    defaults: generationDefaults(generationConfig),
    created: Math.floor(Date.now() / 1000),
  };
}
