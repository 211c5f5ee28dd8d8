// The inputs of the side-by-side run with MiniMind's trainer (tools/minimind_fidelity.py,
// test/train/fidelity.test.ts): the initial model (our seeded minimind-3 init at a tiny size) as a
// model folder and as the fp32 .pth MiniMind loads, and the first rows of each data file.
//
//   npx tsc -p . && node tools/fidelity-setup.mjs /tmp/fid   (a new folder)
// writes /tmp/fid/init/ (model folder), /tmp/fid/init.pth, /tmp/fid/{pretrain,sft,dpo}.jsonl.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFidelityInputs } from '../dist/test/train/fidelity-inputs.js';

const out = process.argv[2];
if (!out || existsSync(out)) {
  console.error(out ? `fidelity-setup: ${out} exists; give a new folder` : 'usage: node tools/fidelity-setup.mjs NEW_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const { modelDir } = writeFidelityInputs(out);
try {
  execFileSync(process.execPath, ['dist/src/cli/main.js', 'export', 'pth', '--model', modelDir, '--out', join(out, 'init.pth'), '--save-dtype', 'fp32'], { stdio: 'inherit' });
} catch (e) {
  process.exit(e.status ?? 1);
}
console.log(`wrote ${out}/init, init.pth, pretrain.jsonl, sft.jsonl, dpo.jsonl`);
