// What each minimind command writes, so the runner can give every stage its own output under the
// pipeline folder and resolve "${stage}" references to it.
import { join } from 'node:path';

export interface StageOutputs {
  /** Flags the runner adds, with their paths. */
  flags: [flag: string, path: string][];
  /** "${name}" and "${name.key}" resolve to these ('' is the plain reference). */
  refs: Record<string, string>;
  /** A training run folder (resumed with --resume after a kill). */
  trainingRun?: string;
  /** Some stage outputs are replaced with --overwrite when a stage is run again. */
  overwrite: boolean;
}

const TRAINING = new Set(['pretrain', 'sft', 'lora', 'dpo', 'distill', 'grpo', 'ppo', 'agent']);

export function stageOutputs(run: string, dir: string, name: string): StageOutputs {
  const at = (suffix: string) => join(dir, name + suffix);
  const file = (ext: string, flag = '--output'): StageOutputs => ({ flags: [[flag, at(ext)]], refs: { '': at(ext) }, overwrite: true });
  if (TRAINING.has(run)) {
    const folder = at('');
    return { flags: [['--out', folder]], refs: { '': join(folder, run === 'lora' ? 'adapter' : 'model'), run: folder, model: join(folder, 'model'), adapter: join(folder, 'adapter') }, trainingRun: folder, overwrite: false };
  }
  switch (run) {
    case 'data convert':
    case 'data clean':
    case 'data dedup':
    case 'data mix':
      return file('.jsonl');
    case 'data split':
      return { flags: [['--train', at('.train.jsonl')], ['--val', at('.val.jsonl')]], refs: { '': at('.train.jsonl'), train: at('.train.jsonl'), val: at('.val.jsonl') }, overwrite: true };
    case 'data tokenize':
      return file('', '--output');
    case 'data stats':
      return file('.html', '--html');
    case 'tokenizer train':
    case 'export':
      return file('', '--out');
    case 'export gguf':
      return file('.gguf', '--out');
    case 'export pth':
      return file('.pth', '--out');
    default:
      // eval and anything else: no output file; its printed result goes into the report
      return { flags: [], refs: { '': at('.txt') }, overwrite: false };
  }
}
