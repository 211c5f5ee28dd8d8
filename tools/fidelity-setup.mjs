// The inputs of the side-by-side run with MiniMind's trainer (tools/minimind_fidelity.py,
// test/train/fidelity.test.ts): the initial model and distillation's teacher (our seeded
// minimind-3 init at tiny sizes) as model folders and as the fp32 .pth files MiniMind loads, and
// the first rows of each data file.
//
//   npx tsc -p . && node tools/fidelity-setup.mjs /tmp/fid   (a new folder)
// writes /tmp/fid/init/ and teacher/ (model folders), /tmp/fid/init.pth and teacher.pth,
// /tmp/fid/{pretrain,sft,dpo,distill}.jsonl.
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
const { modelDir, teacherDir } = writeFidelityInputs(out);
try {
  for (const [dir, pth] of [[modelDir, 'init.pth'], [teacherDir, 'teacher.pth']]) {
    execFileSync(process.execPath, ['dist/src/cli/main.js', 'export', 'pth', '--model', dir, '--out', join(out, pth), '--save-dtype', 'fp32'], { stdio: 'inherit' });
  }
} catch (e) {
  process.exit(e.status ?? 1);
}
console.log(`wrote ${out}/init, teacher, init.pth, teacher.pth, pretrain.jsonl, sft.jsonl, dpo.jsonl, distill.jsonl`);
