// The DeepSeek-style MoE (v1-moe, minimind2-moe) saved as Qwen2MoeForCausalLM: transformers loads the
// folder with no custom code and reproduces our logits, for several shared experts and top-1 routing
// too (the v1-moe PyTorch fixture is checked the same way in test/model/hf-folder.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { loadModelFolder } from '../../src/formats/hf-folder.js';
import { readSafetensors, writeSafetensors, serializeSafetensors } from '../../src/formats/safetensors.js';
import type { MiniMindForCausalLM } from '../../src/model/model.js';
import { relErr } from '../model/helpers.js';
import { PY, smallModelFolder, tmp } from './helpers.js';
import { writeFileSync } from 'node:fs';

const IDS = Int32Array.from({ length: 32 }, (_, i) => (i * 53 + 7) % 400);

function logits(model: MiniMindForCausalLM): Float32Array {
  model.eval();
  return noGrad(() => scope(() => model.forward(tensor(IDS, [2, 16], 'int32')).logits.toArray() as Float32Array));
}

for (const [shared, k] of [[2, 1], [1, 2]]) {
  test(`DeepSeek-style MoE (${shared} shared experts, top-${k}) is a Qwen2MoeForCausalLM folder that transformers runs with our logits`, (t) => {
    const { dir, model } = smallModelFolder('tiny-moe', { n_shared_experts: shared, num_experts_per_tok: k });
    const ours = logits(model);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(cfg.architectures, ['Qwen2MoeForCausalLM']);
    assert.equal(cfg.shared_expert_intermediate_size, shared * model.config.intermediate_size);
    const { model: back, config } = loadModelFolder(dir);
    assert.equal(config.n_shared_experts, shared);
    assert.equal(config.moe_style, 'deepseek');
    assert.ok(relErr(logits(back), ours) < 1e-6, 'our own reload');
    back.dispose();
    if (existsSync(PY)) {
      const expected = join(tmp(), 'expected.safetensors');
      writeSafetensors(expected, { input_ids: { dtype: 'I32', shape: [2, 16], data: IDS }, logits: { dtype: 'F32', shape: [2, 16, 400], data: ours } });
      const r = spawnSync(PY, ['tools/check_hf_load.py', dir, expected], { encoding: 'utf8' });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      t.diagnostic(line);
      assert.equal(r.status, 0, `${line}\n${r.stderr.slice(-2000)}`);
      assert.equal(JSON.parse(line).architecture, 'Qwen2MoeForCausalLM');
    } else t.diagnostic(`transformers check skipped: ${PY} not found (bash tools/setup-venv.sh)`);
    model.dispose();
  });
}

test('a Qwen2-MoE folder with a non-zero shared_expert_gate (a gated shared expert) is refused by name', () => {
  const { dir, model } = smallModelFolder('tiny-moe');
  model.dispose();
  const file = join(dir, 'model.safetensors');
  const { tensors, metadata } = readSafetensors(file);
  const gate = tensors.get('model.layers.1.mlp.shared_expert_gate.weight')!;
  (gate.data as Float32Array)[3] = 0.5;
  writeFileSync(file, serializeSafetensors(tensors, metadata));
  assert.throws(() => loadModelFolder(dir), /model\.layers\.1\.mlp\.shared_expert_gate\.weight is not zero: a gated shared expert/);
  rmSync(dir, { recursive: true, force: true });
});
