// `minimind export pth`: a state dict MiniMind's own scripts load. Proven by torch itself
// (torch.load weights_only=True, load_state_dict strict into the PyTorch port tools/minimind_torch.py,
// logits compared), in HEAD names for dense / QK-norm / both MoE styles and in v1 names with v1's
// interleaved RoPE rows; and by our own .pth reader (`minimind import` of the file gives the same model).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { exportPth, pthStateDict } from '../../src/formats/export-pth.js';
import { importPth } from '../../src/formats/import-pth.js';
import { readPth } from '../../src/formats/pth.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import type { MiniMindForCausalLM } from '../../src/model/model.js';
import { relErr } from '../model/helpers.js';
import { PY, smallModelFolder, tmp } from './helpers.js';

const IDS = Int32Array.from({ length: 32 }, (_, i) => (i * 29 + 5) % 400);
function logits(model: MiniMindForCausalLM): Float32Array {
  model.eval();
  return noGrad(() => scope(() => model.forward(tensor(IDS, [2, 16], 'int32')).logits.toArray() as Float32Array));
}

const CASES: [string, 'head' | 'v1', 'F32' | 'F16'][] = [
  ['tiny', 'head', 'F32'], ['tiny-3', 'head', 'F32'], ['tiny-3-moe', 'head', 'F32'], ['tiny-moe', 'head', 'F32'],
  ['tiny', 'v1', 'F32'], ['tiny-moe', 'v1', 'F32'], ['tiny-3', 'head', 'F16'],
];

for (const [preset, style, dtype] of CASES) {
  test(`export pth ${preset} (${style} names, ${dtype}): torch.load + minimind_torch give our logits; minimind import reads it back`, (t) => {
    const { model } = smallModelFolder(preset);
    const ours = logits(model);
    const dir = tmp();
    const file = join(dir, 'model.pth');
    exportPth(model, file, { style, dtype });
    const sd = readPth(file);
    assert.ok(sd.has(style === 'v1' ? 'output.weight' : 'lm_head.weight'));
    assert.equal(sd.get('layers.0.attention.wq.weight') !== undefined, style === 'v1');
    // Our own reader: the import path (v1 names: rows permuted back) gives the same function.
    const { model: back } = importPth(file, model.config);
    assert.ok(relErr(logits(back), ours) < (dtype === 'F32' ? 1e-6 : 5e-3));
    back.dispose();
    if (existsSync(PY)) {
      const inputs = join(dir, 'inputs.safetensors');
      writeSafetensors(inputs, { input_ids: { dtype: 'I32', shape: [2, 16], data: IDS }, logits: { dtype: 'F32', shape: [2, 16, 400], data: ours } });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(model.config));
      const r = spawnSync(PY, ['tools/check_pth.py', file, join(dir, 'config.json'), inputs, '--style', style, '--rtol', dtype === 'F32' ? '1e-4' : '5e-3'], { encoding: 'utf8' });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      t.diagnostic(line);
      assert.equal(r.status, 0, `${line}\n${r.stderr.slice(-2000)}`);
      assert.equal(JSON.parse(line).dtype, dtype === 'F32' ? 'torch.float32' : 'torch.float16');
    } else t.diagnostic(`torch check skipped: ${PY} not found (bash tools/setup-venv.sh)`);
    model.dispose();
  });
}

test('export pth refuses what MiniMind\'s model cannot hold, with a reason', () => {
  const { model } = smallModelFolder('tiny-3');
  assert.throws(() => pthStateDict(model, 'v1'), /export pth: v1 has no QK-norm; use --style head/);
  model.dispose();
  const { model: untied } = smallModelFolder('tiny', { tie_word_embeddings: false });
  assert.throws(() => pthStateDict(untied, 'head'), /ties lm_head to the embedding/);
  untied.dispose();
});

test('minimind export pth: writes fp16 by default, refuses an existing --out without --overwrite, one-line errors', () => {
  const { dir, model } = smallModelFolder('tiny');
  model.dispose();
  const out = join(tmp(), 'm.pth');
  const cli = (...a: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', 'export', 'pth', ...a], { encoding: 'utf8' });
  let r = cli('--model', dir, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readPth(out).get('model.embed_tokens.weight')!.dtype, 'F16');
  r = cli('--model', dir, '--out', out, '--style', 'v1');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^minimind: --out .*m\.pth already exists; choose another --out, or add --overwrite to replace it\n$/);
  r = cli('--model', dir, '--out', out, '--style', 'v1', '--save-dtype', 'fp32', '--overwrite');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readPth(out).get('tok_embeddings.weight')!.dtype, 'F32');
  r = cli('--model', dir, '--out', out, '--style', 'v2', '--overwrite');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^minimind: --style must be head or v1, got 'v2'\n$/);
  r = cli('--model', dir, '--out', out, '--save-dtype', 'int8', '--overwrite');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^minimind: --save-dtype must be fp32, bf16 or fp16, got 'int8'\n$/);
});
