// `minimind generate` — continue one prompt with a model folder and stream the text to stdout
// (or print {"ids", "text", "finish_reason"} with --json). By default the prompt is wrapped in the
// tokenizer's chat template as one user turn; --raw feeds BOS + the prompt, as MiniMind's
// pretrain evaluation does. The model-loading and sampling-flag helpers here are shared with chat.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { useDevice } from '../../core/device.js';
import { CliError, parseFlags, numberFlag, requireFlag, type FlagSpec } from '../args.js';
import { contextLength, generate, type CausalLM, type GenerateOptions } from '../../model/generate.js';
import { Tokenizer } from '../../tokenizer/tokenizer.js';
import type { ChatMessage } from '../../tokenizer/chat.js';
import { useInferenceWeights, WEIGHT_FORMATS, type WeightFormat } from '../../nn/inference-weights.js';

const USAGE = `Usage: minimind generate --model <folder> --prompt <text> [options]

  --model <folder>            a model folder (config.json, model.safetensors, tokenizer.json)
  --adapter <dir>             apply a LoRA adapter (PEFT layout, e.g. runs/lora/adapter) without merging
  --prompt <text>             the prompt (a user message, unless --raw)
  --system <text>             a system message before the prompt (chat template only)
  --raw                       no chat template: BOS + the prompt, for pretrained (not SFT) models
  --think                     minimind-3 template: open a <think> block (open_thinking)
  --max-new-tokens <n>        new tokens at most (default: generation_config.json, else 512; the context
                              length also limits)
  --temperature <t>           0 = greedy (default: generation_config.json, else 0.85)
  --top-p <p>                 nucleus sampling (default: generation_config.json, else 0.85)
  --top-k <k>                 0 = off (default: generation_config.json, else 50)
  --repetition-penalty <r>    > 1 discourages repeats, sign-aware (default: generation_config.json, else 1)
  --stop <text>               stop string (repeatable); eos always stops
  --seed <n>                  sampling seed (default: random)
  --device cpu|cuda|auto      where the model runs (default cpu; auto = a GPU when one is usable)
  --weights fp32|bf16|q8      weight storage for decoding (default fp32; bf16 / q8_0-style int8 are
                              2x / 3.5x less to read per token, with rounded weights)
  --json                      print {"ids": [...], "text": ..., "finish_reason": ...} instead of streaming`;

/** The sampling flags shared by generate and chat. */
export const SAMPLING_FLAGS: FlagSpec = {
  model: { type: 'string' },
  adapter: { type: 'string' },
  system: { type: 'string' },
  think: { type: 'boolean' },
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  stop: { type: 'string', multiple: true },
  seed: { type: 'string' },
  device: { type: 'string' },
  weights: { type: 'string' },
};

/** --weights: how the weight matrices are stored for decoding (nn/inference-weights.ts). */
export function weightsFlag(values: Record<string, unknown>): WeightFormat {
  const w = values.weights ?? 'fp32';
  if (!(WEIGHT_FORMATS as readonly unknown[]).includes(w)) throw new CliError(`--weights must be one of ${WEIGHT_FORMATS.join(', ')}, got '${String(w)}'`);
  return w as WeightFormat;
}

export interface LoadedModel {
  model: CausalLM & { config: { eos_token_id: number; max_position_embeddings: number } };
  tokenizer: Tokenizer;
  /** generation_config.json, when the folder has one. */
  generationConfig: Record<string, unknown>;
}

/** Loads the model (with a LoRA adapter applied, unmerged), tokenizer and generation_config.json of a folder, with one-line errors; `weights` picks the weight storage. */
export async function loadForGeneration(dir: string, adapter?: string, device?: string, weights: WeightFormat = 'fp32'): Promise<LoadedModel> {
  if (device !== undefined) {
    try {
      useDevice(device);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  if (!existsSync(dir)) throw new CliError(`model folder not found: ${dir}`);
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new CliError(`${dir} has no tokenizer.json (generation needs the tokenizer next to the weights)`);
  // Loaded lazily so that `--help` stays instant.
  const { loadModelFolder, readGenerationConfig } = await import('../../formats/hf-folder.js');
  let model: LoadedModel['model'];
  let tokenizer: Tokenizer;
  let generationConfig: Record<string, unknown>;
  try {
    const base = loadModelFolder(dir).model;
    if (adapter !== undefined) {
      if (!existsSync(adapter)) throw new CliError(`--adapter ${adapter}: no such folder`);
      const { loadLora } = await import('../../train/lora-adapter.js');
      loadLora(base, adapter);
    }
    useInferenceWeights(base, weights);
    model = base as unknown as LoadedModel['model'];
    tokenizer = Tokenizer.load(dir);
    generationConfig = readGenerationConfig(dir);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
  return { model, tokenizer, generationConfig };
}

/**
 * Sampling options from the flags, then generation_config.json, then MiniMind HEAD's generate
 * defaults (temperature 0.85, top_p 0.85, top_k 50). Stop tokens: the tokenizer's and the
 * config's eos (and generation_config's eos_token_id list).
 */
export function samplingOptions(values: Record<string, unknown>, loaded: LoadedModel): Omit<GenerateOptions, 'onToken'> {
  const gc = loadedNumbers(loaded.generationConfig);
  const opts = {
    maxNewTokens: numberFlag(values, 'max-new-tokens', gc.max_new_tokens ?? 512),
    temperature: numberFlag(values, 'temperature', gc.do_sample === false ? 0 : (gc.temperature ?? 0.85)),
    topP: numberFlag(values, 'top-p', gc.top_p ?? 0.85),
    topK: numberFlag(values, 'top-k', gc.top_k ?? 50),
    repetitionPenalty: numberFlag(values, 'repetition-penalty', gc.repetition_penalty ?? 1),
    seed: values.seed === undefined ? undefined : numberFlag(values, 'seed', 0),
  };
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new CliError(`--max-new-tokens must be a non-negative integer, got ${opts.maxNewTokens}`);
  if (opts.temperature < 0) throw new CliError(`--temperature must be >= 0, got ${opts.temperature}`);
  if (!(opts.topP > 0 && opts.topP <= 1)) throw new CliError(`--top-p must be in (0, 1], got ${opts.topP}`);
  if (!Number.isInteger(opts.topK) || opts.topK < 0) throw new CliError(`--top-k must be a non-negative integer, got ${opts.topK}`);
  if (!(opts.repetitionPenalty > 0)) throw new CliError(`--repetition-penalty must be > 0, got ${opts.repetitionPenalty}`);
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new CliError(`--seed must be an integer, got ${opts.seed}`);
  const stops = new Set<number>([loaded.model.config.eos_token_id]);
  if (loaded.tokenizer.eosTokenId !== undefined) stops.add(loaded.tokenizer.eosTokenId);
  const gcEos = loaded.generationConfig.eos_token_id;
  for (const id of Array.isArray(gcEos) ? gcEos : [gcEos]) if (typeof id === 'number') stops.add(id);
  const stopStrings = (values.stop as string[] | undefined) ?? [];
  if (stopStrings.some((s) => s === '')) throw new CliError('--stop must not be empty');
  return { ...opts, stopTokenIds: [...stops], stopStrings, tokenizer: loaded.tokenizer };
}

function loadedNumbers(gc: Record<string, unknown>): { max_new_tokens?: number; temperature?: number; top_p?: number; top_k?: number; repetition_penalty?: number; do_sample?: boolean } {
  const num = (k: string) => (typeof gc[k] === 'number' ? (gc[k] as number) : undefined);
  return {
    max_new_tokens: num('max_new_tokens'),
    temperature: num('temperature'),
    top_p: num('top_p'),
    top_k: num('top_k'),
    repetition_penalty: num('repetition_penalty'),
    do_sample: typeof gc.do_sample === 'boolean' ? gc.do_sample : undefined,
  };
}

/** Renders messages with the chat template and a generation prompt, as token ids. */
export function chatPromptIds(tokenizer: Tokenizer, messages: ChatMessage[], think: boolean): number[] {
  if (tokenizer.chatTemplate === undefined) throw new CliError('the tokenizer has no chat_template (tokenizer_config.json); use --raw for a plain prompt');
  const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, ...(think ? { openThinking: true, enableThinking: true } : {}) });
  return tokenizer.encode(text);
}

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, { ...SAMPLING_FLAGS, prompt: { type: 'string' }, raw: { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  if (!parsed) return;
  const { values } = parsed;
  const dir = requireFlag(values, 'model', USAGE);
  const prompt = values.prompt;
  if (typeof prompt !== 'string') throw new CliError(`--prompt is required\n\n${USAGE}`);
  const loaded = await loadForGeneration(dir, values.adapter as string | undefined, values.device as string | undefined, weightsFlag(values));
  const opts = samplingOptions(values, loaded);
  const { tokenizer } = loaded;
  let ids: number[];
  if (values.raw) {
    if (values.system !== undefined) throw new CliError('--system needs the chat template (drop --raw)');
    ids = [...(tokenizer.bosTokenId !== undefined ? [tokenizer.bosTokenId] : []), ...tokenizer.encode(prompt)];
    if (ids.length === 0) throw new CliError('--prompt is empty and the tokenizer has no BOS token to start from');
  } else {
    const messages: ChatMessage[] = [];
    if (typeof values.system === 'string') messages.push({ role: 'system', content: values.system });
    messages.push({ role: 'user', content: prompt });
    ids = chatPromptIds(tokenizer, messages, values.think === true);
  }
  const context = modelContext(loaded);
  checkContext(ids.length, context);
  const stream = !values.json;
  const [r] = generate(loaded.model, ids, { ...opts, maxNewTokens: Math.min(opts.maxNewTokens, context - ids.length), onToken: stream ? (e) => e.text && process.stdout.write(e.text) : undefined });
  if (stream) process.stdout.write('\n');
  else console.log(JSON.stringify({ ids: r.ids, text: r.text, finish_reason: r.finishReason }));
}

/** Prompt + answer tokens the model takes (hf-folder's contextLength: the length it was trained at, when recorded). */
export function modelContext(loaded: LoadedModel): number {
  return contextLength(loaded.model.config, loaded.generationConfig);
}

/** A one-line error when the prompt alone fills the model's context. */
export function checkContext(promptLength: number, context: number): void {
  if (promptLength >= context) throw new CliError(`the prompt is ${promptLength} tokens; the model's context is ${context} tokens, with no room left to answer`);
}
