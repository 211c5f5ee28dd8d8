// --save-dtype: a stage writes its model folder (and a LoRA stage its adapter) in bf16 or fp16,
// config.json names the dtype, every loader reads it back (our folder loader, transformers via
// check_hf_load.py), and the weights are the fp32 weights rounded once (resume checkpoints stay fp32).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { loadModelFolder } from '../../src/formats/hf-folder.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../../src/formats/safetensors.js';
import { f32ToBf16, bf16ToF32 } from '../../src/formats/halfFloat.js';
import { pretrain } from '../../src/train/pretrain.js';
import { lora } from '../../src/train/lora.js';
import { PY, tmp, tokenizerDir, CORPUS, smallModelFolder } from './helpers.js';

test('pretrain --save-dtype bf16 and lora --save-dtype fp16: saved in that dtype, loadable everywhere', async (t) => {
  const dir = tmp();
  const data = join(dir, 'pre.jsonl');
  writeFileSync(data, CORPUS.flatMap((c) => [c, c.toUpperCase()]).map((text) => JSON.stringify({ text })).join('\n'));
  const args = { data, tokenizer: tokenizerDir(), preset: 'tiny', maxSeqLen: 32, batchSize: 2, accumulationSteps: 1, epochs: 1, logInterval: 1, learningRate: 1e-3 };
  const run = await pretrain({ ...args, out: join(dir, 'pt'), saveDtype: 'bf16' });
  const st = readSafetensors(join(run.modelDir, 'model.safetensors')).tensors;
  assert.ok([...st.values()].every((h) => h.dtype === 'BF16'));
  assert.equal(JSON.parse(readFileSync(join(run.modelDir, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  // The checkpoint keeps fp32 parameters; the folder holds exactly their bf16 rounding.
  const ckpt = readSafetensors(join(run.checkpointDir!, 'state.safetensors')).tensors;
  const key = [...ckpt.keys()].find((k) => k.endsWith('model.embed_tokens.weight'))!;
  assert.equal(ckpt.get(key)!.dtype, 'F32');
  const fp32 = toFloat32(ckpt.get(key)!);
  assert.deepEqual(toFloat32(st.get('model.embed_tokens.weight')!), bf16ToF32(f32ToBf16(fp32)));
  const { model } = loadModelFolder(run.modelDir);
  if (existsSync(PY)) {
    const ids = Int32Array.from([1, 5, 9, 40, 80, 120, 7, 3]);
    const logits = noGrad(() => scope(() => model.forward(tensor(ids, [1, 8], 'int32')).logits.toArray() as Float32Array));
    const expected = join(dir, 'expected.safetensors');
    writeSafetensors(expected, { input_ids: { dtype: 'I32', shape: [1, 8], data: ids }, logits: { dtype: 'F32', shape: [1, 8, model.config.vocab_size], data: logits } });
    const r = spawnSync(PY, ['tools/check_hf_load.py', run.modelDir, expected], { encoding: 'utf8' });
    t.diagnostic(r.stdout.trim());
    assert.equal(r.status, 0, r.stderr.slice(-2000));
  } else t.diagnostic(`transformers check skipped: ${PY} not found`);
  model.dispose();

  const sft = join(dir, 'sft.jsonl');
  writeFileSync(sft, Array.from({ length: 4 }, () => JSON.stringify({ conversations: [{ role: 'user', content: 'Who are you?' }, { role: 'assistant', content: 'A cat.' }] })).join('\n'));
  const { tokenizer: _t, ...common } = args;
  const l = await lora({ ...common, maxSeqLen: 128, data: sft, initFrom: run.modelDir, out: join(dir, 'lora'), saveDtype: 'fp16' });
  const ad = readSafetensors(join(l.modelDir, 'adapter_model.safetensors')).tensors;
  assert.ok([...ad.values()].every((h) => h.dtype === 'F16'));
  const again = loadModelFolder(run.modelDir).model;
  const { loadLora } = await import('../../src/train/lora-adapter.js');
  assert.ok(loadLora(again, l.modelDir).layers.length > 0);
  again.dispose();
});

test('--save-dtype with a bad value is a one-line error naming the flag', async () => {
  await assert.rejects(pretrain({ data: 'x.jsonl', out: join(tmp(), 'o'), saveDtype: 'int4' as never }), /--save-dtype must be fp32, bf16 or fp16, got 'int4'/);
});

test('grpo --save-dtype fp16 writes an fp16 model folder that loads', async () => {
  const { grpo } = await import('../../src/train/grpo.js');
  const { dir, model } = smallModelFolder('tiny-3');
  model.dispose();
  const out = join(tmp(), 'grpo');
  const prompts = ['1+1?', 'hello'].map((q, i) => ({ messages: [{ role: 'user' as const, content: q }], source: `p${i}` }));
  const even = { name: 'even', score: (ss: { completionIds: number[] }[]) => ss.map((x) => x.completionIds.filter((id) => id % 2 === 0).length / Math.max(1, x.completionIds.length)) };
  await grpo({ initFrom: dir, prompts, rewards: [even], numGenerations: 2, maxNewTokens: 3, batchSize: 2, maxSteps: 1, quiet: true, saveDtype: 'fp16', out } as never);
  const st = readSafetensors(join(out, 'model', 'model.safetensors')).tensors;
  assert.ok([...st.values()].every((h) => h.dtype === 'F16'));
  loadModelFolder(join(out, 'model')).model.dispose();
});

test('RL stages take saveDtype too; a bad value is refused before any work', async () => {
  const { grpo } = await import('../../src/train/grpo.js');
  const { ppo } = await import('../../src/train/ppo.js');
  const { agent } = await import('../../src/train/agent.js');
  for (const stage of [grpo, ppo, agent] as ((o: never) => Promise<unknown>)[]) {
    await assert.rejects(stage({ initFrom: '/nonexistent', prompts: [], out: join(tmp(), 'o'), rewards: [], saveDtype: 'fp8' } as never), /--save-dtype must be fp32, bf16 or fp16, got 'fp8'/);
  }
});
