// LoRA adapters in Hugging Face PEFT's layout, proven both ways with peft 0.21 + transformers:
// an adapter we save loads with PeftModel.from_pretrained onto the transformers model of our folder
// and gives our logits; an adapter PEFT saves (random A and B) loads in our model and gives PEFT's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { Rng } from '../../src/core/random.js';
import { loadModelFolder } from '../../src/formats/hf-folder.js';
import { readSafetensors, toFloat32, toInt32, writeSafetensors } from '../../src/formats/safetensors.js';
import type { MiniMindForCausalLM } from '../../src/model/model.js';
import { normalInit } from '../../src/nn/init.js';
import { applyLora, loadLora, mergeLora, saveLora } from '../../src/train/lora-adapter.js';
import { relErr } from '../model/helpers.js';
import { PY, smallModelFolder, tmp } from './helpers.js';

const havePeft = existsSync(PY) && spawnSync(PY, ['-c', 'import peft'], { encoding: 'utf8' }).status === 0;
const skipPeft = havePeft ? false : `${PY} with peft not found (bash tools/setup-venv.sh)`;

const IDS = Int32Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % 400);

function logits(model: MiniMindForCausalLM): Float32Array {
  model.eval();
  return noGrad(() => scope(() => model.forward(tensor(IDS, [2, 12], 'int32')).logits.toArray() as Float32Array));
}

for (const [preset, arch] of [['tiny', 'LlamaForCausalLM'], ['tiny-3', 'Qwen3ForCausalLM']]) {
  test(`LoRA adapter we save (${arch}) loads in PEFT and gives our logits`, { skip: skipPeft }, () => {
    const { dir } = smallModelFolder(preset);
    const model = loadModelFolder(dir).model;
    const base = logits(model);
    const cfg = { rank: 4, alpha: 8, targets: 'all' as const };
    const layers = applyLora(model, cfg, 3);
    const rng = new Rng(5);
    // B starts at zero in training; give it values so the adapter changes the function.
    for (const l of layers) l.B.backend.copy(l.B.buf, l.B.backend.upload(normalInit(l.B.size, 0.1, rng)), l.B.size);
    const ours = logits(model);
    assert.ok(relErr(ours, base) > 1e-2, 'the adapter changes the logits');
    const adir = tmp('mm-adapter-');
    saveLora(adir, layers, cfg);
    const conf = JSON.parse(readFileSync(join(adir, 'adapter_config.json'), 'utf8'));
    assert.deepEqual(conf.target_modules, ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
    assert.ok(readSafetensors(join(adir, 'adapter_model.safetensors')).tensors.has('base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight'));
    const expected = join(adir, 'expected.safetensors');
    writeSafetensors(expected, { input_ids: { dtype: 'I32', shape: [2, 12], data: IDS }, logits: { dtype: 'F32', shape: [2, 12, 400], data: ours } });
    const r = spawnSync(PY, ['tools/check_peft.py', 'load', dir, adir, expected], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr.slice(-2000)}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(res.lora_modules, 2 * 7);
    assert.ok(res.max_rel_diff < 1e-4);

    // Loading our own file back without merging, and merging, give the same function.
    const again = loadModelFolder(dir).model;
    const { layers: l2 } = loadLora(again, adir);
    assert.ok(relErr(logits(again), ours) < 1e-6);
    mergeLora(l2);
    assert.ok(relErr(logits(again), ours) < 1e-4);
    model.dispose();
    again.dispose();
    rmSync(adir, { recursive: true, force: true });
  });

  test(`LoRA adapter PEFT saves (${arch}) loads in our model and gives PEFT's logits`, { skip: skipPeft }, () => {
    const { dir } = smallModelFolder(preset);
    const adir = tmp('mm-peft-');
    const ids = join(adir, 'ids.safetensors');
    writeSafetensors(ids, { input_ids: { dtype: 'I32', shape: [2, 12], data: IDS } });
    const r = spawnSync(PY, ['tools/check_peft.py', 'make', dir, adir, ids, '--r', '8', '--alpha', '16', '--targets', 'q_proj,k_proj,v_proj,o_proj,gate_proj'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const fx = readSafetensors(join(adir, 'expected.safetensors')).tensors;
    assert.deepEqual([...toInt32(fx.get('input_ids')!)], [...IDS]);
    const model = loadModelFolder(dir).model;
    const { layers, config } = loadLora(model, adir);
    assert.equal(layers.length, 2 * 5);
    assert.equal(config.rank, 8);
    assert.ok(relErr(logits(model), toFloat32(fx.get('logits')!)) < 1e-4);
    model.dispose();
    rmSync(adir, { recursive: true, force: true });
  });
}

test('generate --adapter applies a PEFT adapter without merging: same ids as the merged folder, not the base', () => {
  const { dir } = smallModelFolder('tiny-3');
  const model = loadModelFolder(dir).model;
  const layers = applyLora(model, { rank: 4, alpha: 8, targets: 'all' }, 3);
  const rng = new Rng(9);
  for (const l of layers) l.B.backend.copy(l.B.buf, l.B.backend.upload(normalInit(l.B.size, 0.2, rng)), l.B.size);
  const adir = tmp('mm-adapter-');
  saveLora(adir, layers, { rank: 4, alpha: 8, targets: 'all' });
  model.dispose();
  const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  const merged = join(tmp(), 'merged');
  assert.equal(cli('export', '--model', dir, '--merge-lora', adir, '--out', merged).status, 0);
  const gen = (...extra: string[]) => {
    const r = cli('generate', '--prompt', 'The capital of France is', '--temperature', '0', '--max-new-tokens', '8', '--json', ...extra);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).ids as number[];
  };
  const withAdapter = gen('--model', dir, '--adapter', adir);
  assert.deepEqual(withAdapter, gen('--model', merged));
  assert.notDeepEqual(withAdapter, gen('--model', dir));
  const bad = cli('generate', '--model', dir, '--adapter', join(adir, 'nope'), '--prompt', 'x');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^minimind: adapter folder not found: .*nope\n$/);
  rmSync(adir, { recursive: true, force: true });
});
