// `minimind distill`: flags -> DistillOptions -> distill() (src/train/distill.ts).
import { CliError } from '../args.js';
import { NUMBER, MODEL_FLAGS, parseStageFlags, runStageCommand, stageUsage } from '../stage.js';
import { distill, DISTILL_DEFAULTS, type DistillOptions } from '../../train/distill.js';

const USAGE = `Usage: minimind distill --data FILE --teacher MODEL_DIR [--init-from MODEL_DIR] [options]

Distils a teacher into a student on conversations (answer positions only).
Distillation:
  --teacher DIR            the teacher model folder (required; frozen)
  --init-from DIR          the student model folder; without it a new student is built from
                           --preset/--hidden-size/--num-hidden-layers with the teacher's tokenizer
  --alpha X [0.5]          weight of the CE term (0 = pure KL, as MiniMind2's default call)
  --temperature X [1.5]
${stageUsage(DISTILL_DEFAULTS)}`;

/** The flags as DistillOptions (null after --help); `launch` checks them before it starts ranks. */
export function options(argv: string[]): DistillOptions | null {
  const o = parseStageFlags<DistillOptions>('distill', argv, { ...MODEL_FLAGS, teacher: { type: 'string' }, alpha: NUMBER, temperature: NUMBER }, USAGE);
  if (o && !o.teacher) throw new CliError(`--teacher MODEL_DIR is required\n\n${USAGE}`);
  return o;
}

export async function run(argv: string[]): Promise<void> {
  const o = options(argv);
  if (o) await runStageCommand('distill', o, distill);
}
