// `minimind pretrain` — the command-line face of src/train/pretrain.ts (flags: `minimind pretrain --help`).
import { runPretrain } from '../../train/pretrain.js';

export async function run(argv: string[]): Promise<void> {
  await runPretrain(argv);
}
