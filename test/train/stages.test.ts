// Every stage on a tiny real MiniMind model with MiniMind's minimind-3 tokenizer: the loss falls,
// DPO starts at ln 2 when policy = reference, --resume reproduces an uninterrupted run, and a
// merged LoRA gives the same logits as base + adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '../../src/core/tensor.js';
import { noGrad } from '../../src/core/autograd.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { pretrain } from '../../src/train/pretrain.js';
import { sft as sftStage } from '../../src/train/sft.js';
import { lora } from '../../src/train/lora.js';
import { dpoStep, dpo as dpoStage } from '../../src/train/dpo.js';
import { distill } from '../../src/train/distill.js';
import { applyLora, loadLora, loraParameters, mergeLora, saveLora } from '../../src/train/lora-adapter.js';
import { loadModelFolder as loadFolder } from '../../src/formats/hf-folder.js';
import { collate } from '../../src/data/batches.js';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';

const TOK = '../shared/data/minimind-tokenizer/head';
const skip = existsSync(TOK) ? false : `${TOK} not found (shared data absent)`;
const dir = mkdtempSync(join(tmpdir(), 'mm-stages-'));
const data = generateQuickstartData(3);
const pre = join(dir, 'pretrain.jsonl');
const sft = join(dir, 'sft.jsonl');
const dpo = join(dir, 'dpo.jsonl');
writeFileSync(pre, data.pretrainTexts.slice(0, 48).map((t) => JSON.stringify({ text: t })).join('\n'));
writeFileSync(sft, data.sftConversations.slice(0, 48).map((c) => JSON.stringify({ conversations: c })).join('\n'));
writeFileSync(
  dpo,
  data.seen
    .slice(0, 24)
    .map((q) => JSON.stringify({ chosen: [{ role: 'user', content: q.question }, { role: 'assistant', content: q.answer }], rejected: [{ role: 'user', content: q.question }, { role: 'assistant', content: 'I do not know.' }] }))
    .join('\n'),
);
const arch = { preset: 'tiny-3', hiddenSize: 32, numHiddenLayers: 1 };
const tiny = { maxSeqLen: 48, batchSize: 8, accumulationSteps: 1, logInterval: 1 };
const loadModelFolder = (d: string) => loadFolder(d).model;
const ident = join(dir, 'identity.jsonl');
writeFileSync(ident, Array.from({ length: 8 }, () => JSON.stringify({ conversations: [{ role: 'user', content: 'Who are you?' }, { role: 'assistant', content: 'I am Lora, a tiny adapter.' }] })).join('\n'));
/** Mean of the last three losses below the mean of the first three (single batches are noisy). */
const falls = (losses: number[]) => losses.slice(-3).reduce((a, b) => a + b) < losses.slice(0, 3).reduce((a, b) => a + b);

test('pretrain: loss falls; resume after --stop-after gives the same losses as one uninterrupted run', { skip }, async () => {
  const args = { data: pre, tokenizer: TOK, ...arch, ...tiny, epochs: 2, learningRate: 3e-3, saveInterval: 100 };
  const full = await pretrain({ ...args, out: join(dir, 'pt') });
  assert.equal(full.steps, 12);
  assert.ok(falls(full.losses), `pretrain loss ${full.losses[0]} -> ${full.finalLoss}`);
  const part = await pretrain({ ...args, out: join(dir, 'pt2'), stopAfter: 5 });
  assert.equal(part.steps, 5);
  const rest = await pretrain({ ...args, out: join(dir, 'pt2'), resume: true });
  assert.deepEqual(rest.losses, full.losses);
  assert.ok(existsSync(join(dir, 'pt', 'model', 'model.safetensors')));
  assert.ok(existsSync(join(dir, 'pt', 'model', 'tokenizer.json')));
  assert.equal(trainedLength(join(dir, 'pt', 'model')), 48, 'the model folder records the length it was trained at (its context)');
});

const trainedLength = (model: string) => JSON.parse(readFileSync(join(model, 'generation_config.json'), 'utf8')).max_length;

test('sft, lora, dpo, distill: the loss falls in each stage', { skip }, async () => {
  const base = join(dir, 'pt', 'model');
  const s = await sftStage({ data: sft, initFrom: base, ...tiny, epochs: 2, learningRate: 3e-3, out: join(dir, 'sft') });
  assert.ok(falls(s.losses), `sft ${s.losses[0]} -> ${s.finalLoss}`);
  const sftModel = join(dir, 'sft', 'model');
  // LoRA on MiniMind's default targets (q_proj, o_proj) learns one identity answer
  const l = await lora({ data: ident, initFrom: sftModel, ...tiny, epochs: 10, learningRate: 1e-2, loraRank: 8, out: join(dir, 'lora') });
  assert.ok(falls(l.losses), `lora ${l.losses[0]} -> ${l.finalLoss}`);
  assert.ok(existsSync(join(dir, 'lora', 'adapter', 'adapter_model.safetensors')));
  const d = await dpoStage({ data: dpo, initFrom: sftModel, ...tiny, epochs: 3, learningRate: 1e-3, out: join(dir, 'dpo') });
  assert.ok(Math.abs(d.losses[0] - Math.LN2) < 1e-4, `first DPO loss ${d.losses[0]} should be ln 2`);
  assert.ok(falls(d.losses), `dpo ${d.losses[0]} -> ${d.finalLoss}`);
  const k = await distill({ data: sft, teacher: sftModel, tokenizer: TOK, ...arch, ...tiny, hiddenSize: 16, epochs: 2, learningRate: 3e-3, out: join(dir, 'distill') });
  assert.ok(falls(k.losses), `distill ${k.losses[0]} -> ${k.finalLoss}`);
  for (const stage of ['sft', 'dpo', 'distill']) assert.equal(trainedLength(join(dir, stage, 'model')), 48, stage);
});

test('MoE pretraining adds the router aux loss and logs it', { skip }, async () => {
  const out = join(dir, 'moe');
  const r = await pretrain({ data: pre, tokenizer: TOK, ...arch, ...tiny, useMoe: true, epochs: 1, learningRate: 3e-3, out });
  assert.equal(r.steps, 6);
  const recs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(recs.every((x) => x.aux_loss > 0 && Math.abs(x.loss - (x.ce_loss + x.aux_loss)) < 1e-4), JSON.stringify(recs[0]));
  assert.equal(JSON.parse(readFileSync(join(out, 'model', 'config.json'), 'utf8')).num_experts, 4);
});

test('DPO loss at step 0 is exactly ln 2 when the policy equals the reference', () => {
  const cfg = presetConfig('tiny-3', { hidden_size: 32, num_hidden_layers: 1, vocab_size: 64 });
  const policy = new MiniMindForCausalLM(cfg, { seed: 1 });
  const ref = new MiniMindForCausalLM(cfg, { seed: 1 });
  const row = (ids: number[], from: number) => ({ ids: Int32Array.from(ids), mask: Uint8Array.from(ids.map((_, i) => (i >= from ? 1 : 0))) });
  const b = collate([row([1, 5, 6, 7, 2], 2), row([1, 9, 8, 2], 2), row([1, 5, 6, 30, 31, 2], 2), row([1, 9, 40, 2], 2)], 0);
  for (const reduce of ['sum', 'mean'] as const) {
    const r = dpoStep(policy, ref, b, 0.15, reduce);
    assert.ok(Math.abs(r.loss.item() - Math.LN2) < 1e-6);
    assert.equal(r.logs.margin, 0);
  }
  const other = new MiniMindForCausalLM(cfg, { seed: 2 });
  assert.ok(Math.abs(dpoStep(other, ref, b, 0.15, 'sum').loss.item() - Math.LN2) > 1e-6);
});

test('LoRA: base + adapter, the adapter reloaded alone, and the merged model give the same logits', () => {
  const cfg = presetConfig('tiny-3', { hidden_size: 32, num_hidden_layers: 2, vocab_size: 64 });
  const ids = tensor(Int32Array.from([1, 4, 9, 16, 25, 36, 49, 3]), [1, 8], 'int32');
  const logits = (m: MiniMindForCausalLM) => Float32Array.from(noGrad(() => m.forward(ids).logits.toArray()));
  const model = new MiniMindForCausalLM(cfg, { seed: 5 });
  const base = logits(model);
  const layers = applyLora(model, { rank: 4, alpha: 8, targets: 'square' });
  assert.deepEqual([...new Set(layers.map((l) => l.name.split('.').pop()))].sort(), ['o_proj', 'q_proj']);
  // B starts at zero: the adapter changes nothing until trained. Give B values, as training would.
  assert.deepEqual(logits(model), base);
  for (const [, t] of loraParameters(layers)) {
    const v = Float32Array.from({ length: t.size }, (_, i) => Math.sin(i * 0.37 + t.size) * 0.05);
    const up = t.backend.upload(v);
    t.backend.copy(t.buf, up, t.size);
    t.backend.free(up);
  }
  const adapted = logits(model);
  assert.ok(adapted.some((x, i) => Math.abs(x - base[i]) > 1e-4), 'the adapter must change the logits');
  const adir = mkdtempSync(join(tmpdir(), 'mm-lora-'));
  saveLora(adir, layers, { rank: 4, alpha: 8, targets: 'square' });
  const fresh = new MiniMindForCausalLM(cfg, { seed: 5 });
  const loaded = loadLora(fresh, adir);
  assert.deepEqual(logits(fresh), adapted);
  mergeLora(loaded.layers);
  const merged = logits(fresh);
  for (let i = 0; i < merged.length; i++) assert.ok(Math.abs(merged[i] - adapted[i]) < 1e-4, `logit ${i}: merged ${merged[i]} vs adapter ${adapted[i]}`);
  rmSync(adir, { recursive: true });
});

test('export --merge-lora writes a model folder whose logits equal base + adapter', { skip }, async () => {
  const { run } = await import('../../src/cli/commands/export.js');
  const out = join(dir, 'merged');
  const log = console.log;
  console.log = () => {};
  try {
    await run(['--model', join(dir, 'sft', 'model'), '--merge-lora', join(dir, 'lora', 'adapter'), '--out', out]);
  } finally {
    console.log = log;
  }
  const ids = tensor(Int32Array.from([1, 100, 200, 300, 2]), [1, 5], 'int32');
  const withAdapter = loadModelFolder(join(dir, 'sft', 'model'));
  loadLora(withAdapter, join(dir, 'lora', 'adapter'));
  const a = noGrad(() => withAdapter.forward(ids).logits.toArray());
  const b = noGrad(() => loadModelFolder(out).forward(ids).logits.toArray());
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4);
  assert.ok(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).hidden_size === 32);
});

test('export without --merge-lora re-saves a model folder in another dtype: bf16 weights, same logits within bf16 rounding, sampling settings kept', { skip }, async () => {
  const { run } = await import('../../src/cli/commands/export.js');
  const src = join(dir, 'sft', 'model');
  writeFileSync(join(src, 'generation_config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(src, 'generation_config.json'), 'utf8')), do_sample: false, max_new_tokens: 40 }));
  const out = join(dir, 'sft-bf16');
  const log = console.log;
  const said: string[] = [];
  console.log = (m: string) => said.push(m);
  try {
    await run(['--model', src, '--out', out, '--save-dtype', 'bf16']);
  } finally {
    console.log = log;
  }
  assert.match(said.join('\n'), /re-saved .* \(bf16 weights\)/);
  const st = readFileSync(join(out, 'model.safetensors'));
  const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString('utf8'));
  const dtypes = new Set(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, t]) => (t as { dtype: string }).dtype));
  assert.deepEqual([...dtypes], ['BF16']);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  assert.deepEqual(readFileSync(join(out, 'tokenizer.json')), readFileSync(join(src, 'tokenizer.json')));
  const gc = JSON.parse(readFileSync(join(out, 'generation_config.json'), 'utf8'));
  assert.equal(gc.do_sample, false);
  assert.equal(gc.max_new_tokens, 40);
  const ids = tensor(Int32Array.from([1, 100, 200, 300, 2]), [1, 5], 'int32');
  const a = noGrad(() => loadModelFolder(src).forward(ids).logits.toArray());
  const b = noGrad(() => loadModelFolder(out).forward(ids).logits.toArray());
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst > 0 && worst < 0.05, `max |logit diff| ${worst}`); // bf16 keeps 8 bits of mantissa: not equal, close
});

test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
