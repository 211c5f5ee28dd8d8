// `minimind dpo`: direct preference optimisation (MiniMind HEAD trainer/train_dpo.py).
// Data: jsonl {"chosen": [...messages], "rejected": [...messages]}. The policy starts from
// --init-from; a frozen copy of the same weights is the reference. Each batch holds the chosen
// rows then the rejected rows; a sequence's score is the sum (minimind-3) or mean (minimind2) of
// its answer tokens' log-probabilities, and
//   loss = −log σ(β·[(π_chosen − π_rejected) − (ref_chosen − ref_rejected)])   (+ MoE aux)
//
//   minimind dpo --data dpo.jsonl --init-from runs/sft/model --out runs/dpo
import { CliError, numberFlag } from '../cli/args.js';
import { noGrad } from '../core/autograd.js';
import { tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import type { Batch } from '../data/batches.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { buildModel, commonUsage, loadTokenizer, logger, openStageData, parseStage, StageDefaults } from './common.js';
import { dpoLoss, sequenceLogprobs } from './losses.js';
import { loadFrozenModel, saveModelFolder } from './model-io.js';
import { train, TrainSummary } from './trainer.js';

// HEAD: 1 epoch, 4 pairs per batch, lr 4e-8 (≤ 5e-8 to avoid forgetting), max_seq_len 1024, save 100, β 0.15.
export const DPO_DEFAULTS: StageDefaults = { epochs: 1, batchSize: 4, learningRate: 4e-8, accumulationSteps: 1, maxSeqLen: 1024, logInterval: 100, saveInterval: 100 };

const USAGE = `Usage: minimind dpo --data FILE --init-from MODEL_DIR [options]

Preference optimisation on chosen/rejected conversation pairs against a frozen reference.
DPO:
  --init-from DIR          the SFT model folder: the policy's start and the reference (required)
  --beta X [0.15]          (MiniMind2 used 0.1)
  --logp-reduce sum|mean   sequence score: sum of answer log-probs (minimind-3) or mean (minimind2) [sum]
${commonUsage(DPO_DEFAULTS)}`;

/** The DPO loss of one batch (exported for tests: at step 0, policy = reference, it is ln 2). */
export function dpoStep(policy: MiniMindForCausalLM, reference: MiniMindForCausalLM, b: Batch, beta: number, reduce: 'sum' | 'mean') {
  const ids = tensor(b.inputIds, [b.B, b.T], 'int32'); // (2B, T): chosen rows, then rejected rows
  const refLogp = noGrad(() => sequenceLogprobs(reference.forward(ids).logits, b.labels, b.B, b.T, reduce).toArray());
  const out = policy.forward(ids);
  const r = dpoLoss(sequenceLogprobs(out.logits, b.labels, b.B, b.T, reduce), refLogp, beta);
  const loss = out.auxLoss ? ops.add(r.loss, out.auxLoss) : r.loss;
  return { loss, logs: { reward_acc: r.rewardAcc, margin: r.margin } };
}

export async function runDpo(argv: string[]): Promise<TrainSummary | null> {
  const p = parseStage('dpo', argv, DPO_DEFAULTS, { beta: { type: 'string' }, 'logp-reduce': { type: 'string' } }, USAGE);
  if (!p) return null;
  const log = logger(p.cfg.quiet ?? false);
  const from = typeof p.values['init-from'] === 'string' ? p.values['init-from'] : '';
  if (!from) throw new CliError(`--init-from MODEL_DIR is required\n\n${USAGE}`);
  const beta = numberFlag(p.values, 'beta', 0.15);
  const reduce = (p.values['logp-reduce'] ?? 'sum') as string;
  if (reduce !== 'sum' && reduce !== 'mean') throw new CliError(`--logp-reduce must be 'sum' or 'mean', got '${reduce}'`);
  const tok = loadTokenizer(from);
  const policy = buildModel(p.values, tok, 'minimind-3', p.seed);
  const reference = loadFrozenModel(from);
  const data = await openStageData(p, 'dpo', tok, policy.config.max_position_embeddings, log);
  const summary = await train(p.cfg, {
    train: data.train,
    eval: data.eval,
    padId: tok.data.padTokenId,
    params: policy.namedParameters(),
    step: (b) => dpoStep(policy, reference, b, beta, reduce),
    evalStep: (b) => dpoStep(policy, reference, b, beta, reduce).loss.item(),
    saveModel: (dir) => saveModelFolder(policy, dir, tok.dir),
    info: { init_from: from, beta, logp_reduce: reduce },
  });
  log(`dpo: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}; model in ${summary.modelDir}`);
  return summary;
}
