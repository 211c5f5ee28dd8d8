// LoRA fine-tuning (MiniMind HEAD trainer/train_lora.py + model/model_lora.py). The base model
// folder stays frozen; rank-r adapters on the chosen Linears train on SFT data and are saved alone
// in <out>/adapter (adapter_model.safetensors + adapter_config.json). Use them with
// `minimind export --model BASE --merge-lora <out>/adapter --out MERGED`.
//
//   await lora({ data: 'lora_identity.jsonl', initFrom: 'runs/sft/model', out: 'runs/lora' })
import { UserError, asUserError } from '../core/errors.js';
import { tensor } from '../core/tensor.js';
import { loadModel, openStageData, prepareDevice, runInFolder, trainingModel, stageTokenizer, checkVocabulary } from './common.js';
import { applyLora, DEFAULT_LORA, LoraConfig, loraParameters, saveLora } from './lora-adapter.js';
import { intOption, numberOption, resolveTraining, type StageDefaults, type StageOptions } from './options.js';
import type { TrainSummary } from './trainer.js';

// HEAD: 10 epochs, batch 32, lr 1e-4, max_seq_len 340, log 10, save 1000; rank 16 on square Linears.
export const LORA_DEFAULTS: StageDefaults = { epochs: 10, batchSize: 32, learningRate: 1e-4, accumulationSteps: 1, maxSeqLen: 340, logInterval: 10, saveInterval: 1000 };

export interface LoraOptions extends StageOptions {
  /** The base model folder (frozen; its tokenizer is used). */
  initFrom: string;
  /** Adapter rank [16]. */
  loraRank?: number;
  /** Scale numerator [= rank: no scaling, as MiniMind]. */
  loraAlpha?: number;
  /** 'square' (MiniMind: Linears with in == out), 'all', or module names like ['q_proj', 'v_proj'] ['square']. */
  loraTargets?: 'square' | 'all' | string[];
}

export async function lora(o: LoraOptions): Promise<TrainSummary> {
  const r = resolveTraining('lora', o, LORA_DEFAULTS);
  if (!o.initFrom) throw new UserError('--init-from MODEL_DIR is required (the base model the adapters train on)');
  const rank = intOption(o, 'loraRank', DEFAULT_LORA.rank, 1);
  const loraCfg: LoraConfig = { rank, alpha: numberOption(o, 'loraAlpha', rank, 0, Infinity, 'min'), targets: o.loraTargets ?? 'square' };
  prepareDevice(o);
  const tok = stageTokenizer({ initFrom: o.initFrom });
  const model = trainingModel(loadModel(o.initFrom), o);
  checkVocabulary(model, tok, o.initFrom);
  const layers = asUserError(() => applyLora(model, loraCfg, r.seed), '--lora-targets: ');
  const params = loraParameters(layers);
  const n = params.reduce((s, [, x]) => s + x.size, 0);
  const summary = await runInFolder(r, async () => {
    const data = await openStageData(r, o, 'sft', tok, model.config.max_position_embeddings);
    o.log?.(`LoRA: rank ${rank} on ${layers.length} Linears (${[...new Set(layers.map((l) => l.name.split('.').pop()))].join(', ')}): ${n} trainable parameters of ${model.numParameters()}`);
    return {
      train: data.train,
      eval: data.eval,
      padId: tok.data.padTokenId,
      params,
      step: (b) => ({ loss: model.loss(tensor(b.inputIds, [b.B, b.T], 'int32'), b.labels).loss }),
      evalStep: (b) => model.loss(tensor(b.inputIds, [b.B, b.T], 'int32'), b.labels).logitsLoss.item(),
      saveModel: (dir) => saveLora(dir, layers, loraCfg, { dtype: r.saveDtype }),
      modelDirName: 'adapter',
      info: { base_model: o.initFrom, lora: loraCfg, lora_parameters: n },
      lossMean: 'targets',
      activationBytes: (rows) => model.trainingActivationBytes(rows * r.maxSeqLen),
    };
  });
  o.log?.(`lora: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}; adapter in ${summary.modelDir}`);
  return summary;
}
