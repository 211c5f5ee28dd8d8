// A reward model from the command line (`--reward-model DIR`): any model folder with a scalar
// head. The folder is stored as transformers stores a sequence classifier, so a reward model
// trained or exported elsewhere loads as it is:
//   config.json   architectures ["LlamaForSequenceClassification"] or ["Qwen3ForSequenceClassification"]
//                 (the same fields as the CausalLM config), num_labels 1 (or one id2label entry)
//   weights       the body under model.* as in a CausalLM folder, plus score.weight (1, hidden_size)
//                 (nn.Linear(hidden, 1, bias=False)); no lm_head
//   tokenizer     tokenizer.json + tokenizer_config.json (its chat template renders what it scores)
// score(ids) = score.weight · h_last, where h is the body's output after the final norm and
// `last` the last token whose id is not pad_token_id — transformers' *ForSequenceClassification
// pooling, checked against transformers by test/train/rl-reward-model.test.ts. As a reward, a
// sample is its prompt's messages + {assistant: completion} in the reward model's chat template,
// and the score is clipped to [-3, 3] (MiniMind clips its reward model's score so).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { noGrad } from '../../core/autograd.js';
import { scope } from '../../core/scope.js';
import { tensor } from '../../core/tensor.js';
import { MiniMindForCausalLM } from '../../model/model.js';
import { Tokenizer } from '../../tokenizer/tokenizer.js';
import { configFromHfJson, readFolderWeights, toModelStateDict } from '../../formats/hf-folder.js';
import { toFloat32 } from '../../formats/safetensors.js';
import type { RewardFunction } from './reward-fns.js';

const HEADS: Record<string, string> = {
  LlamaForSequenceClassification: 'LlamaForCausalLM',
  Qwen3ForSequenceClassification: 'Qwen3ForCausalLM',
};

export class RewardModel {
  private constructor(
    readonly body: MiniMindForCausalLM,
    /** score.weight, (hidden_size). */
    readonly head: Float32Array,
    readonly padTokenId: number | undefined,
    readonly tokenizer: Tokenizer | null,
  ) {}

  /** Loads a reward model folder (see the header); one Error lists what is wrong. */
  static load(dir: string): RewardModel {
    const problems: string[] = [];
    const cfgPath = path.join(dir, 'config.json');
    if (!fs.existsSync(cfgPath)) throw new Error(`${dir}: no config.json (a reward model folder is a *ForSequenceClassification model folder)`);
    const json = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    const arch = Array.isArray(json.architectures) ? String(json.architectures[0]) : undefined;
    if (!arch || !HEADS[arch]) throw new Error(`${cfgPath}: architecture ${arch ?? '(none)'} is not a reward model; expected one of ${Object.keys(HEADS).join(', ')} with num_labels 1`);
    const labels = typeof json.num_labels === 'number' ? json.num_labels : json.id2label && typeof json.id2label === 'object' ? Object.keys(json.id2label).length : 2;
    if (labels !== 1) throw new Error(`${cfgPath}: num_labels is ${labels}; a reward model has one (a scalar score)`);
    const tensors = readFolderWeights(dir, problems);
    if (!tensors) throw new Error(`cannot load reward model ${dir}:\n  ${problems.join('\n  ')}`);
    const score = tensors.get('score.weight');
    const hidden = json.hidden_size as number;
    if (!score || score.shape.length !== 2 || score.shape[0] !== 1 || score.shape[1] !== hidden) {
      throw new Error(`${dir}: the weights need score.weight of shape (1, ${hidden}), found ${score ? `(${score.shape.join(', ')})` : 'none'}`);
    }
    tensors.delete('score.weight');
    // the body alone: no lm_head is stored, and none is needed (tie it to the embedding)
    const config = configFromHfJson({ ...json, architectures: [HEADS[arch]], tie_word_embeddings: true }, cfgPath, problems, new Set(tensors.keys()));
    if (!config || problems.length) throw new Error(`cannot load reward model ${dir}:\n  ${problems.join('\n  ')}`);
    const body = new MiniMindForCausalLM(config, { init: false });
    try {
      body.loadStateDict(toModelStateDict(tensors, config));
    } catch (e) {
      body.dispose();
      throw new Error(`cannot load reward model ${dir}: ${(e as Error).message}`);
    }
    for (const t of body.parameters()) t.requiresGrad = false;
    body.eval();
    const head = Float32Array.from(toFloat32(score));
    const tokenizer = fs.existsSync(path.join(dir, 'tokenizer.json')) ? Tokenizer.load(dir) : null;
    return new RewardModel(body, head, typeof json.pad_token_id === 'number' ? json.pad_token_id : undefined, tokenizer);
  }

  /** The score of one token sequence (transformers' logits[0, 0] for it). */
  score(ids: number[]): number {
    // the last non-pad token, as transformers pools (a sequence of pads only: its last token)
    let last = ids.length - 1;
    if (this.padTokenId !== undefined) {
      while (last > 0 && ids[last] === this.padTokenId) last--;
    }
    return noGrad(() =>
      scope(() => {
        const { hidden } = this.body.hiddenStates(tensor(Int32Array.from(ids.slice(0, last + 1)), [1, last + 1], 'int32'));
        const d = this.head.length;
        const h = hidden.toArray() as ArrayLike<number>; // (1, T, d): the last row is the one scored
        let s = 0;
        for (let i = 0; i < d; i++) s += h[last * d + i] * this.head[i];
        return s;
      }),
    );
  }

  dispose(): void {
    this.body.dispose();
  }
}

/** `--reward-model DIR` as a reward function: the conversation + answer in the model's chat template, scored, clipped to [-3, 3]. */
export function rewardModelFn(dir: string): RewardFunction {
  const rm = RewardModel.load(dir);
  const tok = rm.tokenizer;
  if (!tok) throw new Error(`${dir} has no tokenizer.json (the reward model's tokenizer renders what it scores)`);
  const maxLen = rm.body.config.max_position_embeddings;
  return {
    name: 'reward_model',
    score: (samples) =>
      samples.map((s) => {
        const text = tok.applyChatTemplate([...s.prompt.messages, { role: 'assistant', content: s.completion }], { addGenerationPrompt: false, ...(s.prompt.tools ? { tools: s.prompt.tools } : {}) });
        const ids = tok.encode(text);
        return Math.max(-3, Math.min(3, rm.score(ids.length > maxLen ? ids.slice(ids.length - maxLen) : ids)));
      }),
  };
}
