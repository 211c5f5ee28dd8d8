// `minimind import --lora`: MiniMind's own LoRA files, written here by MiniMind's model_lora.py
// recipe in PyTorch (tools/make_minimind_lora.py, on the PyTorch port of the model), become PEFT
// adapter folders that give the same logits as PyTorch's model with the adapter, in MiniMind2 /
// minimind-3 names and in m2-legacy v1 names (interleaved RoPE rows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { exportPth } from '../../src/formats/export-pth.js';
import { loadModelFolder } from '../../src/formats/hf-folder.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../../src/formats/safetensors.js';
import { loadLora } from '../../src/train/lora-adapter.js';
import { relErr } from '../model/helpers.js';
import { PY, smallModelFolder, tmp } from './helpers.js';

const skip = existsSync(PY) ? false : `${PY} not found (bash tools/setup-venv.sh): MiniMind's LoRA files are written with torch`;
const IDS = Int32Array.from({ length: 32 }, (_, i) => (i * 31 + 3) % 400);

for (const [preset, style] of [['tiny-3', 'head'], ['tiny', 'v1']] as const) {
  test(`import --lora: a MiniMind LoRA .pth (${style} names) gives PyTorch's logits as a PEFT adapter`, { skip }, (t) => {
    const { dir, model } = smallModelFolder(preset);
    const work = tmp();
    const base = join(work, 'base.pth');
    exportPth(model, base, { style, dtype: 'F32' });
    writeFileSync(join(work, 'config.json'), JSON.stringify(model.config));
    model.dispose();
    const inputs = join(work, 'inputs.safetensors');
    writeSafetensors(inputs, { input_ids: { dtype: 'I32', shape: [2, 16], data: IDS } });
    const loraPth = join(work, 'lora_identity_64.pth');
    const r = spawnSync(PY, ['tools/make_minimind_lora.py', base, join(work, 'config.json'), inputs, loraPth, '--style', style, '--rank', '8'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const modules = JSON.parse(r.stdout.trim().split('\n').pop()!).modules as number;
    assert.equal(modules, 4, 'q_proj and o_proj in 2 layers are the square Linears');

    const adapter = join(work, 'adapter');
    const cli = spawnSync(process.execPath, ['dist/src/cli/main.js', 'import', '--lora', loraPth, '--model', dir, '--out', adapter], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    t.diagnostic(cli.stdout.trim());
    const conf = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8'));
    assert.equal(conf.r, 8);
    assert.equal(conf.lora_alpha, 8, 'MiniMind has no scaling: alpha = rank');
    const withAdapter = loadModelFolder(dir).model;
    assert.equal(loadLora(withAdapter, adapter).layers.length, modules);
    withAdapter.eval();
    const ours = noGrad(() => scope(() => withAdapter.forward(tensor(IDS, [2, 16], 'int32')).logits.toArray() as Float32Array));
    const expected = toFloat32(readSafetensors(join(work, 'expected.safetensors')).tensors.get('logits')!);
    assert.ok(relErr(ours, expected) < 1e-4, `max rel diff ${relErr(ours, expected)}`);
    withAdapter.dispose();
  });
}

test('import --lora: a file that is not a MiniMind LoRA is a one-line error', () => {
  const { dir, model } = smallModelFolder('tiny');
  const file = join(tmp(), 'full.pth');
  exportPth(model, file);
  model.dispose();
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'import', '--lora', file, '--model', dir, '--out', join(tmp(), 'a')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^minimind: .*full\.pth: not a MiniMind LoRA file: keys model\.embed_tokens\.weight, .* are not <module>\.lora\.A\.weight/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
