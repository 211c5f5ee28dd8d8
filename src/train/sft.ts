// `minimind sft`: supervised fine-tuning on conversations (MiniMind HEAD trainer/train_full_sft.py).
// Data: jsonl {"conversations": [{role, content}, ...]}; every assistant turn is a target (from
// after `<|im_start|>assistant\n` through `<|im_end|>\n`). v1's csv (history,q,a) supervises the
// last answer only, as v1 did (--sft-mask last|all overrides).
//
//   minimind sft --data sft_t2t_mini.jsonl --init-from runs/pretrain/model --out runs/sft
import { CliError } from '../cli/args.js';
import { buildModel, commonUsage, loadTokenizer, logger, openStageData, parseStage, StageDefaults } from './common.js';
import { lmTask } from './lm-task.js';
import { train, TrainSummary } from './trainer.js';

// HEAD: 2 epochs, batch 16, lr 1e-5, accumulation 1, max_seq_len 768, log 100, save 1000.
export const SFT_DEFAULTS: StageDefaults = { epochs: 2, batchSize: 16, learningRate: 1e-5, accumulationSteps: 1, maxSeqLen: 768, logInterval: 100, saveInterval: 1000 };

const USAGE = `Usage: minimind sft --data FILE --init-from MODEL_DIR [options]

Fine-tunes every weight of a model folder on conversations.
Model:
  --init-from DIR          the model folder to start from (usually runs/pretrain/model)
  --tokenizer DIR          with no --init-from: train a new model with this tokenizer (--preset etc. apply)
  --sft-mask all|last      supervise every assistant turn (jsonl default) or only the last (v1 csv default)
${commonUsage(SFT_DEFAULTS)}`;

export async function runSft(argv: string[]): Promise<TrainSummary | null> {
  const p = parseStage('sft', argv, SFT_DEFAULTS, {}, USAGE);
  if (!p) return null;
  const log = logger(p.cfg.quiet ?? false);
  const from = typeof p.values['init-from'] === 'string' ? p.values['init-from'] : '';
  const tokDir = typeof p.values.tokenizer === 'string' ? p.values.tokenizer : from;
  if (!tokDir) throw new CliError(`--init-from MODEL_DIR is required (or --tokenizer DIR to start from random weights)\n\n${USAGE}`);
  const tok = loadTokenizer(tokDir);
  const model = buildModel(p.values, tok, 'minimind-3', p.seed);
  const data = await openStageData(p, 'sft', tok, model.config.max_position_embeddings, log);
  const summary = await train(p.cfg, lmTask(model, data.train, data.eval, tok.data.padTokenId, tok.dir));
  log(`sft: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}${summary.evalLoss !== null ? `, held-out ${summary.evalLoss.toFixed(4)}` : ''}; model in ${summary.modelDir}`);
  return summary;
}
