// `minimind sft` — the command-line face of src/train/sft.ts (flags: `minimind sft --help`).
import { runSft } from '../../train/sft.js';

export async function run(argv: string[]): Promise<void> {
  await runSft(argv);
}
