// The task of pretraining and SFT alike: next-token cross-entropy on the labelled positions
// (+ the MoE aux loss), via MiniMindForCausalLM.loss. Only the data differs between the two.
import { tensor } from '../core/tensor.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import type { OpenedDataset } from '../data/datasets.js';
import type { TrainTask } from './trainer.js';
import { saveModelFolder } from '../formats/hf-folder.js';

/** maxSeqLen: the row length trained at, recorded as the saved model's generation_config max_length (its context). */
export function lmTask(model: MiniMindForCausalLM, train: OpenedDataset, evalData: OpenedDataset | null, padId: number, tokenizerDir: string, maxSeqLen: number, saveDtype: 'F32' | 'BF16' | 'F16' = 'F32'): TrainTask {
  return {
    train,
    eval: evalData,
    padId,
    params: model.namedParameters().filter(([, t]) => t.requiresGrad),
    step: (b) => {
      const ids = tensor(b.inputIds, [b.B, b.T], 'int32'); // (B, T)
      const r = model.loss(ids, b.labels); // labels (B, T) from the host batch, -100 = not a target
      // an MoE model logs its two terms: two host reads per micro-batch (the dense step reads none)
      return r.auxLoss ? { loss: r.loss, logs: { ce_loss: r.logitsLoss.item(), aux_loss: r.auxLoss.item() } } : { loss: r.loss };
    },
    evalStep: (b) => model.loss(tensor(b.inputIds, [b.B, b.T], 'int32'), b.labels).logitsLoss.item(),
    saveModel: (dir) => saveModelFolder(dir, model, { tokenizerDir, dtype: saveDtype, generation: { max_length: maxSeqLen } }),
    info: { model: model.config, parameters: model.numParameters() },
    lossMean: 'targets', // model.loss: cross-entropy averaged over the batch's target tokens
    activationBytes: (rows) => model.trainingActivationBytes(rows * maxSeqLen),
  };
}
