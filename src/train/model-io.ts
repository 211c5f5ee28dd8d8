// Loading and saving the model for training stages: a Hugging Face model folder (config.json,
// model.safetensors, generation_config.json, tokenizer files) via src/formats/hf-folder.ts, so
// what we train loads in transformers and in every other command.
import { MiniMindForCausalLM } from '../model/model.js';
import * as hf from '../formats/hf-folder.js';

/** Writes the model folder (float32 weights) with the tokenizer files copied from tokenizerDir. */
export function saveModelFolder(model: MiniMindForCausalLM, dir: string, tokenizerDir?: string): void {
  hf.saveModelFolder(dir, model, { tokenizerDir });
}

/** Loads any model folder the formats layer reads (ours, MiniMind's HF exports, Llama/Qwen3). */
export function loadModelFolder(dir: string): MiniMindForCausalLM {
  return hf.loadModelFolder(dir).model;
}

/** A model that only gives targets (DPO's reference, distillation's teacher): no gradients, eval mode. */
export function loadFrozenModel(dir: string): MiniMindForCausalLM {
  const model = loadModelFolder(dir);
  for (const t of model.parameters()) t.requiresGrad = false;
  return model.eval();
}
