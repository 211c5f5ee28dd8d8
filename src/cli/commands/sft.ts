// `minimind sft`: flags -> SftOptions -> sft() (src/train/sft.ts).
import { MODEL_FLAGS, parseStageFlags, runStageCommand, stageUsage } from '../stage.js';
import { sft, SFT_DEFAULTS, type SftOptions } from '../../train/sft.js';

const USAGE = `Usage: minimind sft --data FILE --init-from MODEL_DIR [options]

Fine-tunes every weight of a model folder on conversations.
Model:
  --init-from DIR          the model folder to start from (usually runs/pretrain/model; its own tokenizer)
  --tokenizer DIR          with no --init-from: train a new model with this tokenizer (--preset etc. apply)
  --sft-mask all|last      supervise every assistant turn (jsonl default) or only the last (v1 csv default)
${stageUsage(SFT_DEFAULTS)}`;

/** The flags as SftOptions (null after --help); `launch` checks them before it starts ranks. */
export function options(argv: string[]): SftOptions | null {
  return parseStageFlags<SftOptions>('sft', argv, MODEL_FLAGS, USAGE);
}

export async function run(argv: string[]): Promise<void> {
  const o = options(argv);
  if (o) await runStageCommand('sft', o, sft);
}
