// `minimind generate` — continue one prompt with a model folder and stream the text to stdout
// (or print {"ids", "text", "finish_reason"} with --json). By default the prompt is wrapped in the
// tokenizer's chat template as one user turn; --raw feeds BOS + the prompt, as MiniMind's
// pretrain evaluation does. The model-loading and sampling-flag helpers here are shared with chat.
import { useDevice } from '../../core/device.js';
import { CliError, parseFlags, numberFlag, requireFlag, type FlagSpec } from '../args.js';
import { generate, type GenerateOptions } from '../../model/generate.js';
import { loadInferenceFolder, type InferenceFolder } from '../../formats/inference-folder.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';
import type { ChatMessage } from '../../tokenizer/chat.js';
import { WEIGHT_FORMATS, type WeightFormat } from '../../nn/inference-weights.js';

const USAGE = `Usage: minimind generate --model <folder> --prompt <text> [options]

  --model <folder>            a model folder (config.json, model.safetensors, tokenizer.json)
  --adapter <dir>             apply a LoRA adapter (PEFT layout, e.g. runs/lora/adapter) without merging
  --prompt <text>             the prompt (a user message, unless --raw)
  --system <text>             a system message before the prompt (chat template only)
  --raw                       no chat template: BOS + the prompt, for pretrained (not SFT) models
  --think                     minimind-3 template: open a <think> block (open_thinking)
  --max-new-tokens <n>        new tokens at most (default: generation_config.json, else 512; the context
                              length also limits)
  --temperature <t>           0 = greedy (default: generation_config.json, else 1; do_sample false: 0)
  --top-p <p>                 nucleus sampling (default: generation_config.json, else 1)
  --top-k <k>                 0 = off (default: generation_config.json, else 50)
  --repetition-penalty <r>    > 1 discourages repeats, sign-aware (default: generation_config.json, else 1)
  --stop <text>               stop string (repeatable); eos always stops
  --seed <n>                  sampling seed (default: random)
  --device cpu|cuda|webgpu|auto  where the model runs (default cpu; auto = a GPU when one is usable)
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

/**
 * Opens a model folder for generation (formats/inference-folder.ts) on --device, with the LoRA
 * adapter applied unmerged and the --weights storage.
 */
export function loadForGeneration(dir: string, adapter?: string, device?: string, weights: WeightFormat = 'fp32'): InferenceFolder {
  if (device !== undefined) {
    try {
      useDevice(device);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  return loadInferenceFolder(dir, { adapter, weights });
}

/**
 * Sampling options from the flags, else the folder's generation_config.json (transformers'
 * defaults where it says nothing; --max-new-tokens 512 when it has no max_new_tokens). Stop
 * tokens: the folder's (eos of config, tokenizer and generation_config).
 */
export function samplingOptions(values: Record<string, unknown>, loaded: InferenceFolder): Omit<GenerateOptions, 'onToken'> {
  const gc = loaded.defaults;
  const opts = {
    maxNewTokens: numberFlag(values, 'max-new-tokens', gc.maxNewTokens ?? 512),
    temperature: numberFlag(values, 'temperature', gc.temperature),
    topP: numberFlag(values, 'top-p', gc.topP),
    topK: numberFlag(values, 'top-k', gc.topK),
    repetitionPenalty: numberFlag(values, 'repetition-penalty', gc.repetitionPenalty),
    seed: values.seed === undefined ? undefined : numberFlag(values, 'seed', 0),
  };
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new CliError(`--max-new-tokens must be a non-negative integer, got ${opts.maxNewTokens}`);
  if (opts.temperature < 0) throw new CliError(`--temperature must be >= 0, got ${opts.temperature}`);
  if (!(opts.topP > 0 && opts.topP <= 1)) throw new CliError(`--top-p must be in (0, 1], got ${opts.topP}`);
  if (!Number.isInteger(opts.topK) || opts.topK < 0) throw new CliError(`--top-k must be a non-negative integer, got ${opts.topK}`);
  if (!(opts.repetitionPenalty > 0)) throw new CliError(`--repetition-penalty must be > 0, got ${opts.repetitionPenalty}`);
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new CliError(`--seed must be an integer, got ${opts.seed}`);
  const stopStrings = (values.stop as string[] | undefined) ?? [];
  if (stopStrings.some((s) => s === '')) throw new CliError('--stop must not be empty');
  return { ...opts, stopTokenIds: loaded.stopTokenIds, stopStrings, tokenizer: loaded.tokenizer };
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
  const loaded = loadForGeneration(dir, values.adapter as string | undefined, values.device as string | undefined, weightsFlag(values));
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
  const context = loaded.contextLength;
  checkContext(ids.length, context);
  const stream = !values.json;
  const [r] = generate(loaded.model, ids, { ...opts, maxNewTokens: Math.min(opts.maxNewTokens, context - ids.length), onToken: stream ? (e) => e.text && process.stdout.write(e.text) : undefined });
  if (stream) process.stdout.write('\n');
  else console.log(JSON.stringify({ ids: r.ids, text: r.text, finish_reason: r.finishReason }));
}

/** A one-line error when the prompt alone fills the model's context. */
export function checkContext(promptLength: number, context: number): void {
  if (promptLength >= context) throw new CliError(`the prompt is ${promptLength} tokens; the model's context is ${context} tokens, with no room left to answer`);
}
