// `minimind dpo` — the command-line face of src/train/dpo.ts (flags: `minimind dpo --help`).
import { runDpo } from '../../train/dpo.js';

export async function run(argv: string[]): Promise<void> {
  await runDpo(argv);
}
