// An output named through a symbolic link to a folder that does not exist yet (a link made ahead
// to a bigger disk) is written where the link points, and the link stays. Once, the model-folder
// writers renamed their finished temporary folder onto the link itself (ENOTDIR, after all the work)
// and `web build` and `quickstart` died in mkdir with a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trainTokenizer } from '../../src/tokenizer/index.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { exportPth } from '../../src/formats/export-pth.js';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';

const cli = resolve('dist/src/cli/main.js');

test('export and import write a model folder through a symlink to a folder still to be made', () => {
  const W = mkdtempSync(join(tmpdir(), 'mm-links-'));
  try {
    const tok = trainTokenizer({ texts: generateQuickstartData(5).pretrainTexts, vocabSize: 300, preset: 'minimind3' });
    tok.save(join(W, 'tok'));
    const model = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 1 });
    saveModelFolder(join(W, 'model'), model, { tokenizerDir: join(W, 'tok') });
    exportPth(model, join(W, 'model.pth'), { dtype: 'F32' });
    const cases: [string, string[]][] = [
      ['exported', ['export', '--model', 'model', '--save-dtype', 'bf16']],
      ['imported', ['import', '--pth', 'model.pth', '--config', join('model', 'config.json'), '--tokenizer', 'tok']],
    ];
    for (const [name, argv] of cases) {
      symlinkSync(join('disk', name), join(W, `${name}-link`));
      const r = spawnSync(process.execPath, [cli, ...argv, '--out', `${name}-link`], { cwd: W, encoding: 'utf8', env: { ...process.env, MINIMIND_BACKEND: 'js' } });
      assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
      assert.ok(lstatSync(join(W, `${name}-link`)).isSymbolicLink(), 'the link stays');
      assert.ok(existsSync(join(W, 'disk', name, 'model.safetensors')), `${name}: written where the link points`);
      assert.deepEqual(readdirSync(join(W, 'disk')).filter((n) => n.includes('.tmp-')), [], 'no temporary folder left');
    }
  } finally {
    rmSync(W, { recursive: true, force: true });
  }
});
