// White-box knowledge distillation (MiniMind HEAD trainer/train_distillation.py).
// A frozen teacher model folder and a student (initFrom a model folder, or a new model from
// preset with the teacher's tokenizer) train on SFT data; over the answer positions
//   loss = α·CE(student, labels) + (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T))
// with the teacher's logits cut to the student's vocabulary; logged as MiniMind logs it: `loss`,
// `ce_loss` and `distill_loss` = T²·KL (KL as F.kl_div(..., reduction='batchmean')).
//
//   await distill({ data: 'sft.jsonl', teacher: 'runs/big/model', initFrom: 'runs/small/model', out: 'runs/distill' })
import { UserError } from '../core/errors.js';
import { noGrad } from '../core/autograd.js';
import { tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import type { Batch } from '../data/batches.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { checkSavable, saveModelFolder } from '../formats/hf-folder.js';
import { buildModel, loadFrozenModel, openStageData, prepareDevice, runInFolder, trainingModel, sameTokenizer, stageTokenizer } from './common.js';
import { distillLoss } from './losses.js';
import { numberOption, resolveTraining, type ModelOptions, type StageDefaults, type StageOptions } from './options.js';
import type { TrainSummary } from './trainer.js';

// HEAD: 6 epochs, batch 32, lr 5e-6, max_seq_len 340, save 100; α 0.5, T 1.5 (m2-2510's CLI defaults).
export const DISTILL_DEFAULTS: StageDefaults = { epochs: 6, batchSize: 32, learningRate: 5e-6, accumulationSteps: 1, maxSeqLen: 340, logInterval: 100, saveInterval: 100 };

export interface DistillOptions extends StageOptions, ModelOptions {
  /** The teacher model folder (frozen). Its tokenizer is the student's unless initFrom has one. */
  teacher: string;
  /** Weight of the CE term [0.5] (0 = pure KL, as MiniMind2's default call). */
  alpha?: number;
  /** Softmax temperature [1.5]. */
  temperature?: number;
}

export function distillStep(student: MiniMindForCausalLM, teacher: MiniMindForCausalLM, b: Batch, temperature: number, alpha: number) {
  const ids = tensor(b.inputIds, [b.B, b.T], 'int32'); // (B, T)
  const t = noGrad(() => teacher.forward(ids).logits); // (B, T, Vt), stays on the device
  const out = student.forward(ids);
  const r = distillLoss(out.logits, t, t.shape[2], b.labels, b.B, b.T, temperature, alpha);
  t.dispose();
  // MiniMind adds a MoE student's aux loss to the CE term, so it is weighted by α too.
  const loss = out.auxLoss ? ops.add(r.loss, ops.scale(out.auxLoss, alpha)) : r.loss;
  return { loss, logs: { ce_loss: r.ce, distill_loss: r.distill } };
}

export async function distill(o: DistillOptions): Promise<TrainSummary> {
  const r = resolveTraining('distill', o, DISTILL_DEFAULTS);
  if (!o.teacher) throw new UserError('--teacher MODEL_DIR is required (the frozen model to distil)');
  const alpha = numberOption(o, 'alpha', 0.5, 0, 1);
  const temperature = numberOption(o, 'temperature', 1.5, 0, Infinity, 'min');
  prepareDevice(o);
  const teacher = loadFrozenModel(o.teacher, '--teacher');
  const tok = stageTokenizer(o, o.teacher);
  if (tok.dir !== o.teacher && !sameTokenizer(tok.dir, o.teacher)) throw new UserError(`the student's tokenizer (${tok.dir}) is not the teacher's (${o.teacher}); the KL term compares the two models id by id, so both need the same tokenizer`);
  const student = trainingModel(buildModel(o, tok, 'minimind-3', r.seed), o);
  checkSavable(student, r.saveDtype);
  if (teacher.config.vocab_size < student.config.vocab_size) throw new UserError(`the teacher's vocabulary (${teacher.config.vocab_size}) is smaller than the student's (${student.config.vocab_size}); distil into a student with the teacher's tokenizer`);
  const summary = await runInFolder(r, async () => {
    const data = await openStageData(r, o, 'sft', tok, Math.min(student.config.max_position_embeddings, teacher.config.max_position_embeddings));
    o.log?.(`teacher ${(teacher.numParameters() / 1e6).toFixed(2)}M → student ${(student.numParameters() / 1e6).toFixed(2)}M parameters`);
    return {
      train: data.train,
      eval: data.eval,
      padId: tok.data.padTokenId,
      params: student.namedParameters(),
      step: (b) => distillStep(student, teacher, b, temperature, alpha),
      evalStep: (b) => distillStep(student, teacher, b, temperature, alpha).loss.item(),
      saveModel: (dir) => saveModelFolder(dir, student, { tokenizerDir: tok.dir, dtype: r.saveDtype, generation: { max_length: r.maxSeqLen } }),
      info: { teacher: o.teacher, alpha, temperature },
    };
  });
  o.log?.(`distill: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}; model in ${summary.modelDir}`);
  return summary;
}
