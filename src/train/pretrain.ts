// Pretraining: train a model from scratch on plain text (MiniMind HEAD trainer/train_pretrain.py).
// Data: jsonl {"text": ...} (or v1's csv / token .bin); each text becomes [bos] + tokens + [eos];
// every real token is a target.
//
//   await pretrain({ data: 'pretrain_t2t_mini.jsonl', tokenizer: 'model/', out: 'runs/pretrain' })
import { checkSavable } from '../formats/hf-folder.js';
import { buildModel, openStageData, prepareDevice, runInFolder, trainingModel, stageTokenizer } from './common.js';
import { lmTask } from './lm-task.js';
import { resolveTraining, type ModelOptions, type StageDefaults, type StageOptions } from './options.js';
import type { TrainSummary } from './trainer.js';

// HEAD: 2 epochs, batch 32, lr 5e-4, accumulation 8, max_seq_len 340, log 100, save 1000.
export const PRETRAIN_DEFAULTS: StageDefaults = { epochs: 2, batchSize: 32, learningRate: 5e-4, accumulationSteps: 8, maxSeqLen: 340, logInterval: 100, saveInterval: 1000 };

/** `tokenizer` (a new model from `preset`, default minimind-3) or `initFrom` (continue a model folder). */
export interface PretrainOptions extends StageOptions, ModelOptions {}

export async function pretrain(o: PretrainOptions): Promise<TrainSummary> {
  const r = resolveTraining('pretrain', o, PRETRAIN_DEFAULTS);
  prepareDevice(o);
  const tok = stageTokenizer(o);
  const model = trainingModel(buildModel(o, tok, 'minimind-3', r.seed), o);
  checkSavable(model, r.saveDtype); // before any work: a model --save-dtype cannot hold is refused now, not at the end
  const summary = await runInFolder(r, async () => {
    const data = await openStageData(r, o, 'pretrain', tok, model.config.max_position_embeddings);
    o.log?.(`model: ${(model.numParameters() / 1e6).toFixed(2)}M parameters (hidden ${model.config.hidden_size}, ${model.config.num_hidden_layers} layers${model.config.use_moe ? ', MoE' : ''})`);
    return lmTask(model, data.train, data.eval, tok.data.padTokenId, tok.dir, r.maxSeqLen, r.saveDtype);
  });
  o.log?.(`pretrain: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}${summary.evalLoss !== null ? `, held-out loss ${summary.evalLoss.toFixed(4)}` : ''}; model in ${summary.modelDir}`);
  return summary;
}
