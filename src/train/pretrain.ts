// `minimind pretrain`: train a model from scratch on plain text (MiniMind HEAD
// trainer/train_pretrain.py). Data: jsonl {"text": ...} (or v1's csv / token .bin); each text
// becomes [bos] + tokens + [eos]; every real token is a target.
//
//   minimind pretrain --data pretrain_t2t_mini.jsonl --tokenizer model/ --out runs/pretrain
import { CliError } from '../cli/args.js';
import { buildModel, commonUsage, loadTokenizer, logger, openStageData, parseStage, StageDefaults } from './common.js';
import { lmTask } from './lm-task.js';
import { train, TrainSummary } from './trainer.js';

// HEAD: 2 epochs, batch 32, lr 5e-4, accumulation 8, max_seq_len 340, log 100, save 1000.
export const PRETRAIN_DEFAULTS: StageDefaults = { epochs: 2, batchSize: 32, learningRate: 5e-4, accumulationSteps: 8, maxSeqLen: 340, logInterval: 100, saveInterval: 1000 };

const USAGE = `Usage: minimind pretrain --data FILE --tokenizer DIR [options]

Pretrains a new model (or continues --init-from a model folder) on text.
Model:
  --tokenizer DIR          folder with tokenizer.json + tokenizer_config.json (copied into the model folder)
  --init-from DIR          start from this model folder instead of random weights
  --preset NAME [minimind-3]  minimind-3, minimind2-small, v1-small, tiny, ... (see src/model/presets.ts)
  --hidden-size N  --num-hidden-layers N  --use-moe
${commonUsage(PRETRAIN_DEFAULTS)}`;

export async function runPretrain(argv: string[]): Promise<TrainSummary | null> {
  const p = parseStage('pretrain', argv, PRETRAIN_DEFAULTS, {}, USAGE);
  if (!p) return null;
  const log = logger(p.cfg.quiet ?? false);
  const tokDir = typeof p.values.tokenizer === 'string' ? p.values.tokenizer : typeof p.values['init-from'] === 'string' ? p.values['init-from'] : '';
  if (!tokDir) throw new CliError(`--tokenizer DIR is required (or --init-from a model folder)\n\n${USAGE}`);
  const tok = loadTokenizer(tokDir);
  const model = buildModel(p.values, tok, 'minimind-3', p.seed);
  log(`model: ${(model.numParameters() / 1e6).toFixed(2)}M parameters (hidden ${model.config.hidden_size}, ${model.config.num_hidden_layers} layers${model.config.use_moe ? ', MoE' : ''})`);
  const data = await openStageData(p, 'pretrain', tok, model.config.max_position_embeddings, log);
  const summary = await train(p.cfg, lmTask(model, data.train, data.eval, tok.data.padTokenId, tok.dir));
  log(`pretrain: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}${summary.evalLoss !== null ? `, held-out ${summary.evalLoss.toFixed(4)}` : ''}; model in ${summary.modelDir}`);
  return summary;
}
