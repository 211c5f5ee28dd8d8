// The inputs shared by the side-by-side run with MiniMind's own trainer (tools/minimind_fidelity.py
// writes test/fixtures/minimind-trainer-losses.json from them; test/train/fidelity.test.ts runs
// our stages on them): a tiny minimind-3 model with our seeded init, the first rows of the public
// demo data, and each stage's settings (MiniMind's argparse names).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';

export const FIDELITY_TOKENIZER = '../shared/data/minimind-tokenizer/head';
const DATA = '../shared/data/minimind-format';

/** MiniMindConfig(hidden_size, num_hidden_layers) at HEAD = our minimind-3 preset at that size. */
export const FIDELITY_MODEL = { hidden_size: 64, num_hidden_layers: 2, seed: 42 };
/** Distillation's frozen teacher: one layer deeper, other weights. */
export const FIDELITY_TEACHER = { hidden_size: 64, num_hidden_layers: 3, seed: 7 };

export interface FidelityStage {
  source: string;
  rows: number;
  epochs: number;
  batch_size: number;
  learning_rate: number;
  accumulation_steps: number;
  max_seq_len: number;
  beta?: number;
  /** Distillation: weight of the CE term and softmax temperature. */
  alpha?: number;
  temperature?: number;
  /** Only rows whose prompt (all messages but the answer) has at most this many characters. */
  max_prompt_chars?: number;
}

// Small enough for a unit test, big enough to exercise every piece of train_epoch's arithmetic:
// pretrain has 3 batches an epoch with accumulation 2, so each epoch ends with MiniMind's flush of
// a lone micro-batch; two epochs run the cosine schedule to its 10% floor. DPO takes only pairs
// whose prompt leaves room for answer tokens: a pair with none left within max_seq_len is dropped
// by our data loader but kept by MiniMind's (it adds a constant ln 2 to the batch mean), which would
// make the batches differ.
export const FIDELITY_STAGES: Record<'pretrain' | 'sft' | 'dpo' | 'distill', FidelityStage> = {
  pretrain: { source: 'pretrain_wiki_demo.jsonl', rows: 6, epochs: 2, batch_size: 2, learning_rate: 5e-4, accumulation_steps: 2, max_seq_len: 64 },
  sft: { source: 'sft_alpaca_en_demo.jsonl', rows: 6, epochs: 2, batch_size: 2, learning_rate: 1e-4, accumulation_steps: 1, max_seq_len: 96 },
  dpo: { source: 'dpo_en_demo.jsonl', rows: 4, epochs: 2, batch_size: 2, learning_rate: 1e-4, accumulation_steps: 1, max_seq_len: 128, beta: 0.15, max_prompt_chars: 200 },
  distill: { source: 'sft_alpaca_en_demo.jsonl', rows: 6, epochs: 2, batch_size: 2, learning_rate: 5e-4, accumulation_steps: 1, max_seq_len: 96, alpha: 0.5, temperature: 1.5 },
};

/** Writes out/init (the initial model folder), out/teacher (distillation's) and out/<stage>.jsonl (the rows each stage reads). */
export function writeFidelityInputs(out: string): { modelDir: string; teacherDir: string; data: Record<string, string> } {
  mkdirSync(out, { recursive: true });
  const [modelDir, teacherDir] = [join(out, 'init'), join(out, 'teacher')];
  for (const [dir, m] of [[modelDir, FIDELITY_MODEL], [teacherDir, FIDELITY_TEACHER]] as const) {
    const model = new MiniMindForCausalLM(presetConfig('minimind-3', { hidden_size: m.hidden_size, num_hidden_layers: m.num_hidden_layers }), { seed: m.seed });
    saveModelFolder(dir, model, { tokenizerDir: FIDELITY_TOKENIZER });
  }
  const data: Record<string, string> = {};
  for (const [stage, s] of Object.entries(FIDELITY_STAGES)) {
    const promptChars = (l: string) => (JSON.parse(l).chosen as { content: string }[]).slice(0, -1).reduce((n, m) => n + m.content.length, 0);
    const lines = readFileSync(join(DATA, s.source), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && (s.max_prompt_chars === undefined || promptChars(l) <= s.max_prompt_chars));
    data[stage] = join(out, `${stage}.jsonl`);
    writeFileSync(data[stage], lines.slice(0, s.rows).join('\n') + '\n');
  }
  return { modelDir, teacherDir, data };
}
