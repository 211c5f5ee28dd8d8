// Shared by the interop tests: a small model folder with a real byte-level BPE tokenizer (trained
// here on a few sentences, ChatML specials) and weights drawn wider than MiniMind's init, so that
// greedy decoding has clear winners (random-init logits are nearly tied, which would make "the same
// ids" a test of rounding noise rather than of the export).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/random.js';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import type { MiniMindConfig } from '../../src/model/config.js';
import { normalInit } from '../../src/nn/init.js';
import { trainTokenizer } from '../../src/tokenizer/index.js';

export const PY = '.venv/bin/python';

export const CORPUS = [
  'The capital of France is Paris. The capital of Japan is Tokyo.',
  'One plus two is three. Two plus two is four. 你好，世界！中国的首都是北京。',
  'Once upon a time there was a little cat who liked to play in the garden.',
  "It's a sunny day; we'll go out and they've said 123 + 456 = 579.",
];

export function tmp(prefix = 'mm-interop-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A tokenizer folder (tokenizer.json + tokenizer_config.json with the MiniMind2 chat template). */
export function tokenizerDir(vocabSize = 400): string {
  const dir = tmp('mm-tok-');
  trainTokenizer({ texts: CORPUS, vocabSize, preset: 'chatml' }).save(dir);
  return dir;
}

/** Overwrites every parameter with N(0, std) (norm weights 1 + N(0, 0.1)), deterministically. */
export function widenWeights(model: MiniMindForCausalLM, seed = 7, std = 0.15): void {
  const rng = new Rng(seed);
  const sd = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of model.namedParameters()) {
    const n = t.size;
    const data = name.endsWith('norm.weight') ? normalInit(n, 0.1, rng).map((x) => 1 + x) : normalInit(n, std, rng);
    sd.set(name, { shape: [...t.shape], data });
  }
  model.loadStateDict(sd);
}

/** A model folder of `preset` (vocab = tokenizer's) with widened weights; returns the folder and the model. */
export function smallModelFolder(preset: string, overrides: Partial<MiniMindConfig> = {}, seed = 7): { dir: string; model: MiniMindForCausalLM; config: MiniMindConfig } {
  const tok = tokenizerDir();
  const config = presetConfig(preset, { vocab_size: 400, ...overrides });
  const model = new MiniMindForCausalLM(config);
  widenWeights(model, seed);
  const dir = join(tmp(), 'model');
  saveModelFolder(dir, model, { tokenizerDir: tok });
  return { dir, model, config };
}

/** Greedy ids with the margin top1 - top2 of each step (full forward each step: simple and exact). */
export function greedyIds(model: MiniMindForCausalLM, prompt: number[], n: number): { ids: number[]; margins: number[]; minMargin: number } {
  model.eval();
  const seq = [...prompt];
  const margins: number[] = [];
  for (let s = 0; s < n; s++) {
    const row = noGrad(() => scope(() => {
      const logits = model.forward(tensor(Int32Array.from(seq), [1, seq.length], 'int32'), { lastOnly: true }).logits;
      return logits.toArray() as Float32Array;
    }));
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    let second = -Infinity;
    for (let i = 0; i < row.length; i++) if (i !== best && row[i] > second) second = row[i];
    margins.push(row[best] - second);
    seq.push(best);
  }
  return { ids: seq.slice(prompt.length), margins, minMargin: Math.min(...margins) };
}
