// `minimind quickstart` — the whole pipeline on built-in data (src/train/quickstart.ts).
import { runQuickstart } from '../../train/quickstart.js';

export async function run(argv: string[]): Promise<void> {
  await runQuickstart(argv);
}
