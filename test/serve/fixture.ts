// A tiny served model for the server tests: a minimind-3 style tokenizer (36 added tokens, the
// minimind-3 chat template with tools and <think>) trained here on a few sentences, and a tiny
// minimind-3 model with random weights (scaled up so greedy choices are never decided by float
// rounding; an untied head, so greedy does not just repeat the last token), saved as a model folder in a temp directory. No shared data and no network needed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { trainTokenizer } from '../../src/tokenizer/trainer.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';

const TEXTS = [
  'The capital of France is Paris. The capital of Japan is Tokyo.',
  'One plus two is three. Two plus two is four. What is the weather like today?',
  '<script>alert(1)</script> & "quotes" are text, not markup.',
  '你好，世界。今天天气很好。北京是中国的首都。',
  '{"name": "get_weather", "arguments": {"city": "Paris"}}',
];

export interface ServedFixture {
  dir: string;
  folder: string;
  model: MiniMindForCausalLM;
  tokenizer: Tokenizer;
  cleanup(): void;
}

export function makeServedModel(opts: { maxPositions?: number; seed?: number } = {}): ServedFixture {
  const dir = mkdtempSync(join(tmpdir(), 'mm-serve-'));
  const tokDir = join(dir, 'tok');
  const tok = trainTokenizer({ texts: TEXTS, vocabSize: 420, preset: 'minimind3' });
  tok.save(tokDir);
  const cfg = presetConfig('tiny-3', { vocab_size: tok.vocabSize, max_position_embeddings: opts.maxPositions ?? 256, tie_word_embeddings: false });
  const model = new MiniMindForCausalLM(cfg, { seed: opts.seed ?? 5 });
  const scaled = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, p] of model.namedParameters()) {
    const data = Float32Array.from(p.toArray() as Float32Array);
    if (p.shape.length > 1) for (let i = 0; i < data.length; i++) data[i] *= 4;
    scaled.set(name, { shape: p.shape, data });
  }
  model.loadStateDict(scaled);
  const folder = join(dir, 'tiny-chat');
  saveModelFolder(folder, model, { tokenizerDir: tokDir });
  return { dir, folder, model, tokenizer: Tokenizer.load(folder), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
