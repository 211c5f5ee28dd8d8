// Shared helpers for the eval tests: a tiny model and tokenizer made in memory, C-Eval/CMMLU-layout
// CSV folders written to a temp dir, and where the shared benchmark data lives.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { trainTokenizer } from '../../src/tokenizer/trainer.js';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.js';

export const SHARED = '../shared/data';
export const CEVAL = `${SHARED}/ceval`;
export const CMMLU = `${SHARED}/cmmlu`;
export const V1_TOKENIZER = `${SHARED}/minimind-tokenizer/v1`;
export const noBenchmarks = existsSync(CEVAL) && existsSync(CMMLU) && existsSync(V1_TOKENIZER) ? false : `needs ${SHARED} (ceval, cmmlu, minimind-tokenizer/v1); not found`;

export function tmp(prefix = 'mm-eval-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A v1-preset BPE tokenizer (<unk> <s> </s>, v1's chat template) trained on a few sentences. */
export function tinyTokenizer(): Tokenizer {
  const texts = ['下列关于税法的表述中，不正确的是。选择 A: 甲, B: 乙, C: 丙, D: 丁', 'The capital of France is Paris. 1 + 1 = 2', '答案：A 答案：B 答案：C 答案：D'];
  return trainTokenizer({ texts: Array(20).fill(texts).flat(), vocabSize: 300, preset: 'v1' });
}

/** A 2-layer random model whose vocabulary fits the tokenizer. */
export function tinyModel(vocab: number, seed = 7): MiniMindForCausalLM {
  const m = new MiniMindForCausalLM(presetConfig('tiny', { vocab_size: vocab, bos_token_id: 1, eos_token_id: 2 }), { seed });
  m.eval();
  return m;
}

/** Writes CSV files into dir/name (created), returns the folder. */
export function writeCsvs(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
