// `minimind distill`: white-box knowledge distillation (MiniMind HEAD trainer/train_distillation.py).
// A frozen teacher model folder and a student (--init-from a model folder, or a new model from
// --preset with the teacher's tokenizer) train on SFT data; over the answer positions
//   loss = α·CE(student, labels) + (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T))
// with the teacher's logits cut to the student's vocabulary.
//
//   minimind distill --data sft.jsonl --teacher runs/big/model --init-from runs/small/model --out runs/distill
import { CliError, numberFlag } from '../cli/args.js';
import { noGrad } from '../core/autograd.js';
import { tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import type { Batch } from '../data/batches.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { buildModel, commonUsage, loadTokenizer, logger, openStageData, parseStage, StageDefaults } from './common.js';
import { distillLoss } from './losses.js';
import { loadFrozenModel, saveModelFolder } from './model-io.js';
import { train, TrainSummary } from './trainer.js';

// HEAD: 6 epochs, batch 32, lr 5e-6, max_seq_len 340, save 100; α 0.5, T 1.5 (m2-2510's CLI defaults).
export const DISTILL_DEFAULTS: StageDefaults = { epochs: 6, batchSize: 32, learningRate: 5e-6, accumulationSteps: 1, maxSeqLen: 340, logInterval: 100, saveInterval: 100 };

const USAGE = `Usage: minimind distill --data FILE --teacher MODEL_DIR [--init-from MODEL_DIR] [options]

Distils a teacher into a student on conversations (answer positions only).
Distillation:
  --teacher DIR            the teacher model folder (required; frozen)
  --init-from DIR          the student model folder; without it a new student is built from
                           --preset/--hidden-size/--num-hidden-layers with the teacher's tokenizer
  --alpha X [0.5]          weight of the CE term (0 = pure KL, as MiniMind2's default call)
  --temperature X [1.5]
${commonUsage(DISTILL_DEFAULTS)}`;

export function distillStep(student: MiniMindForCausalLM, teacher: MiniMindForCausalLM, b: Batch, temperature: number, alpha: number) {
  const ids = tensor(b.inputIds, [b.B, b.T], 'int32'); // (B, T)
  const t = noGrad(() => teacher.forward(ids).logits); // (B, T, Vt)
  const tHost = t.toArray();
  const Vt = t.shape[2];
  t.dispose();
  const out = student.forward(ids);
  const r = distillLoss(out.logits, tHost, Vt, b.labels, b.B, b.T, temperature, alpha);
  const loss = out.auxLoss ? ops.add(r.loss, out.auxLoss) : r.loss;
  return { loss, logs: { ce_loss: r.ce, kl_loss: r.kl } };
}

export async function runDistill(argv: string[]): Promise<TrainSummary | null> {
  const p = parseStage('distill', argv, DISTILL_DEFAULTS, { teacher: { type: 'string' }, alpha: { type: 'string' }, temperature: { type: 'string' } }, USAGE);
  if (!p) return null;
  const log = logger(p.cfg.quiet ?? false);
  const teacherDir = typeof p.values.teacher === 'string' ? p.values.teacher : '';
  if (!teacherDir) throw new CliError(`--teacher MODEL_DIR is required\n\n${USAGE}`);
  const alpha = numberFlag(p.values, 'alpha', 0.5);
  const temperature = numberFlag(p.values, 'temperature', 1.5);
  if (!(alpha >= 0 && alpha <= 1)) throw new CliError(`--alpha must be in [0, 1], got ${alpha}`);
  if (!(temperature > 0)) throw new CliError(`--temperature must be > 0, got ${temperature}`);
  const teacher = loadFrozenModel(teacherDir);
  const from = typeof p.values['init-from'] === 'string' ? p.values['init-from'] : '';
  const tok = loadTokenizer(from || teacherDir);
  const student = buildModel(p.values, tok, 'minimind-3', p.seed);
  if (teacher.config.vocab_size < student.config.vocab_size) throw new CliError(`the teacher's vocabulary (${teacher.config.vocab_size}) is smaller than the student's (${student.config.vocab_size})`);
  log(`teacher ${(teacher.numParameters() / 1e6).toFixed(2)}M → student ${(student.numParameters() / 1e6).toFixed(2)}M parameters`);
  const data = await openStageData(p, 'sft', tok, Math.min(student.config.max_position_embeddings, teacher.config.max_position_embeddings), log);
  const summary = await train(p.cfg, {
    train: data.train,
    eval: data.eval,
    padId: tok.data.padTokenId,
    params: student.namedParameters(),
    step: (b) => distillStep(student, teacher, b, temperature, alpha),
    evalStep: (b) => distillStep(student, teacher, b, temperature, alpha).loss.item(),
    saveModel: (dir) => saveModelFolder(student, dir, tok.dir),
    info: { teacher: teacherDir, alpha, temperature },
  });
  log(`distill: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}; model in ${summary.modelDir}`);
  return summary;
}
