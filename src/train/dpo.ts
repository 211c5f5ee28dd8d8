// Direct preference optimisation (MiniMind HEAD trainer/train_dpo.py).
// Data: jsonl {"chosen": [...messages], "rejected": [...messages]}. The policy starts from
// initFrom; a frozen copy of the same weights is the reference. Each batch holds the chosen
// rows then the rejected rows; a sequence's score is the sum (minimind-3) or mean (minimind2) of
// its answer tokens' log-probabilities, and
//   loss = −log σ(β·[(π_chosen − π_rejected) − (ref_chosen − ref_rejected)])   (+ MoE aux)
//
//   await dpo({ data: 'dpo.jsonl', initFrom: 'runs/sft/model', out: 'runs/dpo' })
import { UserError } from '../core/errors.js';
import { noGrad } from '../core/autograd.js';
import { tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import type { Batch } from '../data/batches.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { checkSavable, saveModelFolder } from '../formats/hf-folder.js';
import { checkVocabulary, loadFrozenModel, loadModel, openStageData, prepareDevice, runInFolder, trainingModel, stageTokenizer } from './common.js';
import { dpoLoss, sequenceLogprobs } from './losses.js';
import { numberOption, resolveTraining, type StageDefaults, type StageOptions } from './options.js';
import type { TrainSummary } from './trainer.js';

// HEAD: 1 epoch, 4 pairs per batch, lr 4e-8 (≤ 5e-8 to avoid forgetting), max_seq_len 1024, save 100, β 0.15.
export const DPO_DEFAULTS: StageDefaults = { epochs: 1, batchSize: 4, learningRate: 4e-8, accumulationSteps: 1, maxSeqLen: 1024, logInterval: 100, saveInterval: 100 };

export interface DpoOptions extends StageOptions {
  /** The SFT model folder: the policy's start and the reference. */
  initFrom: string;
  /** β [0.15] (MiniMind2 used 0.1). */
  beta?: number;
  /** Sequence score: sum of answer log-probs (minimind-3) or their mean (minimind2) ['sum']. */
  logpReduce?: 'sum' | 'mean';
}

/** The DPO loss of one batch (exported for tests: at step 0, policy = reference, it is ln 2). */
export function dpoStep(policy: MiniMindForCausalLM, reference: MiniMindForCausalLM, b: Batch, beta: number, reduce: 'sum' | 'mean') {
  const ids = tensor(b.inputIds, [b.B, b.T], 'int32'); // (2B, T): chosen rows, then rejected rows
  const refLogp = noGrad(() => sequenceLogprobs(reference.forward(ids).logits, b.labels, b.B, b.T, reduce)); // (2B), stays on the device
  const out = policy.forward(ids);
  const r = dpoLoss(sequenceLogprobs(out.logits, b.labels, b.B, b.T, reduce), refLogp, beta);
  const loss = out.auxLoss ? ops.add(r.loss, out.auxLoss) : r.loss;
  return { loss, logs: { reward_acc: r.rewardAcc, margin: r.margin } };
}

export async function dpo(o: DpoOptions): Promise<TrainSummary> {
  const r = resolveTraining('dpo', o, DPO_DEFAULTS);
  if (!o.initFrom) throw new UserError('--init-from MODEL_DIR is required (the SFT model: policy start and reference)');
  const beta = numberOption(o, 'beta', 0.15, 0, Infinity, 'min');
  const reduce = o.logpReduce ?? 'sum';
  if (reduce !== 'sum' && reduce !== 'mean') throw new UserError(`--logp-reduce must be 'sum' or 'mean', got '${reduce}'`);
  prepareDevice(o);
  const tok = stageTokenizer({ initFrom: o.initFrom });
  const policy = trainingModel(loadModel(o.initFrom), o);
  checkSavable(policy, r.saveDtype);
  checkVocabulary(policy, tok, o.initFrom);
  const reference = loadFrozenModel(o.initFrom);
  const summary = await runInFolder(r, async () => {
    const data = await openStageData(r, o, 'dpo', tok, policy.config.max_position_embeddings);
    return {
      train: data.train,
      eval: data.eval,
      padId: tok.data.padTokenId,
      params: policy.namedParameters(),
      step: (b) => dpoStep(policy, reference, b, beta, reduce),
      evalStep: (b) => dpoStep(policy, reference, b, beta, reduce).loss.item(),
      saveModel: (dir) => saveModelFolder(dir, policy, { tokenizerDir: tok.dir, dtype: r.saveDtype, generation: { max_length: r.maxSeqLen } }),
      info: { init_from: o.initFrom, beta, logp_reduce: reduce },
      activationBytes: (rows) => policy.trainingActivationBytes(rows * r.maxSeqLen), // rows: chosen and rejected
    };
  });
  o.log?.(`dpo: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}; model in ${summary.modelDir}`);
  return summary;
}
