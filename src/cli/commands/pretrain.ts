// `minimind pretrain`: flags -> PretrainOptions -> pretrain() (src/train/pretrain.ts).
import { MODEL_FLAGS, parseStageFlags, runStageCommand, stageUsage } from '../stage.js';
import { pretrain, PRETRAIN_DEFAULTS, type PretrainOptions } from '../../train/pretrain.js';

const USAGE = `Usage: minimind pretrain --data FILE --tokenizer DIR [options]

Pretrains a new model (or continues --init-from a model folder) on text.
Model:
  --tokenizer DIR          folder with tokenizer.json + tokenizer_config.json (copied into the model folder)
  --init-from DIR          start from this model folder instead of random weights (its own tokenizer)
  --preset NAME [minimind-3]  minimind-3, minimind2-small, v1-small, tiny, ... (see src/model/presets.ts)
  --hidden-size N  --num-hidden-layers N  --use-moe
${stageUsage(PRETRAIN_DEFAULTS)}`;

/** The flags as PretrainOptions (null after --help); `launch` checks them before it starts ranks. */
export function options(argv: string[]): PretrainOptions | null {
  return parseStageFlags<PretrainOptions>('pretrain', argv, MODEL_FLAGS, USAGE);
}

export async function run(argv: string[]): Promise<void> {
  const o = options(argv);
  if (o) await runStageCommand('pretrain', o, pretrain);
}
