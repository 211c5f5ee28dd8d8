// `minimind lora`: flags -> LoraOptions -> lora() (src/train/lora.ts).
import { CliError } from '../args.js';
import { NUMBER, parseStageFlags, runStageCommand, stageUsage } from '../stage.js';
import { lora, LORA_DEFAULTS, type LoraOptions } from '../../train/lora.js';

const USAGE = `Usage: minimind lora --data FILE --init-from MODEL_DIR [options]

Trains LoRA adapters on conversations; the base model is frozen and the adapters are saved alone.
LoRA:
  --init-from DIR          the base model folder (required)
  --lora-rank N [16]       --lora-alpha X [= rank: no scaling, as MiniMind]
  --lora-targets LIST      'square' (MiniMind: Linears with in == out, i.e. q_proj and o_proj),
                           'all', or names like q_proj,v_proj [square]
${stageUsage(LORA_DEFAULTS)}`;

/** The flags as LoraOptions (null after --help); `launch` checks them before it starts ranks. */
export function options(argv: string[]): LoraOptions | null {
  const o = parseStageFlags<LoraOptions & { loraTargets?: string }>('lora', argv, { 'init-from': { type: 'string' }, 'lora-rank': NUMBER, 'lora-alpha': NUMBER, 'lora-targets': { type: 'string' } }, USAGE);
  if (!o) return null;
  if (!o.initFrom) throw new CliError(`--init-from MODEL_DIR is required\n\n${USAGE}`);
  const t = o.loraTargets;
  const loraTargets = t === undefined || t === 'square' || t === 'all' ? t : t.split(',').map((s) => s.trim()).filter(Boolean);
  return { ...o, loraTargets };
}

export async function run(argv: string[]): Promise<void> {
  const o = options(argv);
  if (o) await runStageCommand('lora', o, lora);
}
