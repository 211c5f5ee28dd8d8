// A model folder opened for inference, one way for every caller (generate, chat, serve, eval):
// the weights (a LoRA adapter applied unmerged, the weight storage for decoding), the tokenizer
// beside them, and generation_config.json read once into the sampling defaults, the stop tokens
// and the context. Problems are one UserError line each.
//
//   const f = loadInferenceFolder('runs/sft/model');
//   generate(f.model, ids, { ...f.defaults, stopTokenIds: f.stopTokenIds, maxNewTokens: f.contextLength - ids.length });
import { existsSync, statSync } from '../io/fs.js';
import { join } from '../io/path.js';
import { UserError } from '../core/errors.js';
import type { MiniMindConfig } from '../model/config.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { useInferenceWeights, WEIGHT_FORMATS, type WeightFormat } from '../nn/inference-weights.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { loadLora } from '../train/lora-adapter.js';
import { loadModelFolder, readGenerationConfig } from './hf-folder.js';
import { checkTokenizerForModel } from './tokenizer-check.js';
import { swapHint } from '../core/temp-paths.js';

/** Sampling settings a model folder asks for (generation_config.json), every field resolved. */
export interface GenerationDefaults {
  /** 0 = greedy (do_sample false). */
  temperature: number;
  topP: number;
  topK: number;
  repetitionPenalty: number;
  /** New tokens at most; undefined = as many as the context leaves. */
  maxNewTokens?: number;
}

export interface InferenceFolder {
  model: MiniMindForCausalLM;
  tokenizer: Tokenizer;
  /** generation_config.json as written ({} when the folder has none). */
  generationConfig: Record<string, unknown>;
  defaults: GenerationDefaults;
  /** Token ids that end an answer: eos of config.json, of the tokenizer and of generation_config.json. */
  stopTokenIds: number[];
  /** Prompt + answer tokens at most (contextLength). */
  contextLength: number;
}

/**
 * Loads dir (config.json, model.safetensors, tokenizer.json) for generation. opts.adapter: a PEFT
 * LoRA folder applied unmerged; opts.weights: the weight storage (fp32 when absent).
 */
export function loadInferenceFolder(dir: string, opts: { adapter?: string; weights?: WeightFormat } = {}): InferenceFolder {
  if (!existsSync(dir)) throw new UserError(`model folder not found: ${dir}${swapHint(dir)}`);
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir} is a file, not a model folder (config.json, model.safetensors, tokenizer.json)`);
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new UserError(`${dir} has no tokenizer.json (generation needs the tokenizer next to the weights)`);
  if (opts.adapter !== undefined && !existsSync(opts.adapter)) throw new UserError(`adapter folder not found: ${opts.adapter}`);
  if (opts.weights !== undefined && !WEIGHT_FORMATS.includes(opts.weights)) throw new UserError(`weights must be one of ${WEIGHT_FORMATS.join(', ')}, got '${opts.weights}'`);
  let model: MiniMindForCausalLM;
  let tokenizer: Tokenizer;
  let generationConfig: Record<string, unknown>;
  try {
    generationConfig = readGenerationConfig(dir);
    model = loadModelFolder(dir).model;
    if (opts.adapter !== undefined) loadLora(model, opts.adapter);
    if (opts.weights !== undefined) useInferenceWeights(model, opts.weights);
    tokenizer = Tokenizer.load(dir);
  } catch (e) {
    throw e instanceof UserError ? e : new UserError((e as Error).message);
  }
  checkTokenizerForModel(tokenizer, dir, model.config.vocab_size, dir);
  return {
    model,
    tokenizer,
    generationConfig,
    defaults: generationDefaults(generationConfig),
    stopTokenIds: stopTokenIds(model.config, tokenizer, generationConfig),
    contextLength: contextLength(model.config, generationConfig),
  };
}

/**
 * The sampling settings of a generation_config.json with transformers' GenerationConfig defaults
 * for the fields it leaves out (temperature 1, top_p 1, top_k 50, repetition_penalty 1), so the
 * CLI, chat and the server start from the same numbers. One departure: transformers decodes
 * greedily unless do_sample is true; here only an explicit do_sample false is greedy, because the
 * folders MiniMind and our stages write say nothing about it and MiniMind's own scripts sample.
 */
export function generationDefaults(gc: Record<string, unknown>): GenerationDefaults {
  const num = (k: string, dflt: number) => (typeof gc[k] === 'number' ? (gc[k] as number) : dflt);
  const maxNew = gc.max_new_tokens;
  return {
    temperature: gc.do_sample === false ? 0 : num('temperature', 1),
    topP: num('top_p', 1),
    topK: num('top_k', 50),
    repetitionPenalty: num('repetition_penalty', 1),
    ...(typeof maxNew === 'number' && Number.isInteger(maxNew) && maxNew >= 0 ? { maxNewTokens: maxNew } : {}),
  };
}

/** eos of the model's config, of the tokenizer, and every id of generation_config's eos_token_id (a number or a list). */
export function stopTokenIds(config: Pick<MiniMindConfig, 'eos_token_id'>, tokenizer: { eosTokenId?: number }, gc: Record<string, unknown>): number[] {
  const stops = new Set<number>([config.eos_token_id]);
  if (tokenizer.eosTokenId !== undefined) stops.add(tokenizer.eosTokenId);
  const gcEos = gc.eos_token_id;
  for (const id of Array.isArray(gcEos) ? gcEos : [gcEos]) if (typeof id === 'number') stops.add(id);
  return [...stops];
}

/**
 * Prompt + completion tokens a model folder is meant to take: max_position_embeddings, or less when
 * its generation_config.json has max_length (transformers: prompt + new tokens at most). Training
 * stages record there the --max-seq-len they trained at, so a model trained on 128-token rows is not
 * offered the 512 positions its RoPE table happens to have.
 */
export function contextLength(config: { max_position_embeddings: number }, gc: Record<string, unknown>): number {
  const m = gc.max_length;
  const trained = typeof m === 'number' && Number.isInteger(m) && m >= 2 ? m : Infinity;
  return Math.min(trained, config.max_position_embeddings);
}
