// `minimind distill` — the command-line face of src/train/distill.ts (flags: `minimind distill --help`).
import { runDistill } from '../../train/distill.js';

export async function run(argv: string[]): Promise<void> {
  await runDistill(argv);
}
