// `minimind lora`: LoRA fine-tuning (MiniMind HEAD trainer/train_lora.py + model/model_lora.py).
// The base model folder stays frozen; rank-r adapters on the chosen Linears train on SFT data and
// are saved alone in <out>/adapter (adapter_model.safetensors + adapter_config.json). Use them
// with `minimind export --model BASE --merge-lora <out>/adapter --out MERGED`.
//
//   minimind lora --data lora_identity.jsonl --init-from runs/sft/model --out runs/lora
import { CliError, numberFlag } from '../cli/args.js';
import { tensor } from '../core/tensor.js';
import { buildModel, commonUsage, loadTokenizer, logger, openStageData, parseStage, StageDefaults } from './common.js';
import { applyLora, DEFAULT_LORA, LoraConfig, loraParameters, saveLora } from './lora-adapter.js';
import { train, TrainSummary } from './trainer.js';

// HEAD: 10 epochs, batch 32, lr 1e-4, max_seq_len 340, log 10, save 1000; rank 16 on square Linears.
export const LORA_DEFAULTS: StageDefaults = { epochs: 10, batchSize: 32, learningRate: 1e-4, accumulationSteps: 1, maxSeqLen: 340, logInterval: 10, saveInterval: 1000 };

const USAGE = `Usage: minimind lora --data FILE --init-from MODEL_DIR [options]

Trains LoRA adapters on conversations; the base model is frozen and the adapters are saved alone.
LoRA:
  --init-from DIR          the base model folder (required)
  --lora-rank N [16]       --lora-alpha X [= rank: no scaling, as MiniMind]
  --lora-targets LIST      'square' (MiniMind: Linears with in == out, i.e. q_proj and o_proj),
                           'all', or names like q_proj,v_proj [square]
${commonUsage(LORA_DEFAULTS)}`;

export async function runLora(argv: string[]): Promise<TrainSummary | null> {
  const p = parseStage('lora', argv, LORA_DEFAULTS, { 'lora-rank': { type: 'string' }, 'lora-alpha': { type: 'string' }, 'lora-targets': { type: 'string' } }, USAGE);
  if (!p) return null;
  const log = logger(p.cfg.quiet ?? false);
  const from = typeof p.values['init-from'] === 'string' ? p.values['init-from'] : '';
  if (!from) throw new CliError(`--init-from MODEL_DIR is required\n\n${USAGE}`);
  const tok = loadTokenizer(from);
  const model = buildModel(p.values, tok, 'minimind-3', p.seed);
  const rank = numberFlag(p.values, 'lora-rank', DEFAULT_LORA.rank);
  if (!Number.isInteger(rank) || rank < 1) throw new CliError(`--lora-rank must be a positive integer, got ${rank}`);
  const t = typeof p.values['lora-targets'] === 'string' ? p.values['lora-targets'] : 'square';
  const loraCfg: LoraConfig = { rank, alpha: numberFlag(p.values, 'lora-alpha', rank), targets: t === 'square' || t === 'all' ? t : t.split(',').map((s) => s.trim()) };
  let layers;
  try {
    layers = applyLora(model, loraCfg, p.seed);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const params = loraParameters(layers);
  const n = params.reduce((s, [, x]) => s + x.size, 0);
  log(`LoRA: rank ${rank} on ${layers.length} Linears (${[...new Set(layers.map((l) => l.name.split('.').pop()))].join(', ')}): ${n} trainable parameters of ${model.numParameters()}`);
  const data = await openStageData(p, 'sft', tok, model.config.max_position_embeddings, log);
  const summary = await train(p.cfg, {
    train: data.train,
    eval: data.eval,
    padId: tok.data.padTokenId,
    params,
    step: (b) => ({ loss: model.loss(tensor(b.inputIds, [b.B, b.T], 'int32'), tensor(b.labels, [b.B, b.T], 'int32')).loss }),
    evalStep: (b) => model.loss(tensor(b.inputIds, [b.B, b.T], 'int32'), tensor(b.labels, [b.B, b.T], 'int32')).logitsLoss.item(),
    saveModel: (dir) => saveLora(dir, layers, loraCfg),
    modelDirName: 'adapter',
    info: { base_model: from, lora: loraCfg, lora_parameters: n },
  });
  log(`lora: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}; adapter in ${summary.modelDir}`);
  return summary;
}
