// `minimind dpo`: flags -> DpoOptions -> dpo() (src/train/dpo.ts).
import { CliError } from '../args.js';
import { NUMBER, parseStageFlags, runStageCommand, stageUsage } from '../stage.js';
import { dpo, DPO_DEFAULTS, type DpoOptions } from '../../train/dpo.js';

const USAGE = `Usage: minimind dpo --data FILE --init-from MODEL_DIR [options]

Preference optimisation on chosen/rejected conversation pairs against a frozen reference.
DPO:
  --init-from DIR          the SFT model folder: the policy's start and the reference (required)
  --beta X [0.15]          (MiniMind2 used 0.1)
  --logp-reduce sum|mean   sequence score: sum of answer log-probs (minimind-3) or mean (minimind2) [sum]
${stageUsage(DPO_DEFAULTS)}`;

/** The flags as DpoOptions (null after --help); `launch` checks them before it starts ranks. */
export function options(argv: string[]): DpoOptions | null {
  const o = parseStageFlags<DpoOptions>('dpo', argv, { 'init-from': { type: 'string' }, beta: NUMBER, 'logp-reduce': { type: 'string' } }, USAGE);
  if (o && !o.initFrom) throw new CliError(`--init-from MODEL_DIR is required\n\n${USAGE}`);
  return o;
}

export async function run(argv: string[]): Promise<void> {
  const o = options(argv);
  if (o) await runStageCommand('dpo', o, dpo);
}
