// Supervised fine-tuning on conversations (MiniMind HEAD trainer/train_full_sft.py).
// Data: jsonl {"conversations": [{role, content}, ...]}; every assistant turn is a target (from
// after `<|im_start|>assistant\n` through `<|im_end|>\n`). v1's csv (history,q,a) supervises the
// last answer only, as v1 did (sftMask 'last' | 'all' overrides).
//
//   await sft({ data: 'sft_t2t_mini.jsonl', initFrom: 'runs/pretrain/model', out: 'runs/sft' })
import { checkSavable } from '../formats/hf-folder.js';
import { buildModel, openStageData, prepareDevice, runInFolder, trainingModel, stageTokenizer } from './common.js';
import { lmTask } from './lm-task.js';
import { resolveTraining, type ModelOptions, type StageDefaults, type StageOptions } from './options.js';
import type { TrainSummary } from './trainer.js';

// HEAD: 2 epochs, batch 16, lr 1e-5, accumulation 1, max_seq_len 768, log 100, save 1000.
export const SFT_DEFAULTS: StageDefaults = { epochs: 2, batchSize: 16, learningRate: 1e-5, accumulationSteps: 1, maxSeqLen: 768, logInterval: 100, saveInterval: 1000 };

/** `initFrom` a model folder (usually a pretrained one), or `tokenizer` for a new model. */
export interface SftOptions extends StageOptions, ModelOptions {}

export async function sft(o: SftOptions): Promise<TrainSummary> {
  const r = resolveTraining('sft', o, SFT_DEFAULTS);
  prepareDevice(o);
  const tok = stageTokenizer(o, undefined, 'give --init-from MODEL_DIR (or --tokenizer DIR to start from random weights)');
  const model = trainingModel(buildModel(o, tok, 'minimind-3', r.seed), o);
  checkSavable(model, r.saveDtype); // before any work: a model --save-dtype cannot hold is refused now, not at the end
  const summary = await runInFolder(r, async () => {
    const data = await openStageData(r, o, 'sft', tok, model.config.max_position_embeddings);
    return lmTask(model, data.train, data.eval, tok.data.padTokenId, tok.dir, r.maxSeqLen, r.saveDtype);
  });
  o.log?.(`sft: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}${summary.evalLoss !== null ? `, held-out loss ${summary.evalLoss.toFixed(4)}` : ''}; model in ${summary.modelDir}`);
  return summary;
}
