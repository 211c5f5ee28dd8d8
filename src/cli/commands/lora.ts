// `minimind lora` — the command-line face of src/train/lora.ts (flags: `minimind lora --help`).
import { runLora } from '../../train/lora.js';

export async function run(argv: string[]): Promise<void> {
  await runLora(argv);
}
