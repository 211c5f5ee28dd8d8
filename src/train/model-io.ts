// Loading and saving the model for training stages: a Hugging Face model folder (config.json,
// model.safetensors, tokenizer files). Kept in one place so the stages do not care who
// implements the folder format.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../model/model.js';
import { completeConfig, type MiniMindConfig } from '../model/config.js';
import { readSafetensors, toFloat32, writeSafetensors, HostTensor } from '../formats/safetensors.js';

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];

/** Writes config.json + model.safetensors (+ the tokenizer files copied from tokenizerDir). */
export function saveModelFolder(model: MiniMindForCausalLM, dir: string, tokenizerDir?: string): void {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, HostTensor> = {};
  for (const [name, t] of model.namedParameters()) {
    const a = t.toArray();
    tensors[name] = { dtype: 'F32', shape: [...t.shape], data: a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>) };
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['MiniMindForCausalLM'], model_type: 'minimind', ...model.config }, null, 2) + '\n');
  if (tokenizerDir) for (const f of TOKENIZER_FILES) if (existsSync(join(tokenizerDir, f))) copyFileSync(join(tokenizerDir, f), join(dir, f));
}

/** Loads a model folder written by saveModelFolder. */
export function loadModelFolder(dir: string): MiniMindForCausalLM {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new Error(`not a model folder (no config.json): ${dir}`);
  const raw = JSON.parse(readFileSync(cfgPath, 'utf8')) as Partial<MiniMindConfig>;
  const model = new MiniMindForCausalLM(completeConfig(raw as MiniMindConfig));
  const { tensors } = readSafetensors(join(dir, 'model.safetensors'));
  const values = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [k, t] of tensors) values.set(k, { shape: t.shape, data: toFloat32(t) });
  model.loadStateDict(values);
  return model;
}
