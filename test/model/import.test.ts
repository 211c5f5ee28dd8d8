// Import of MiniMind .pth checkpoints: the v1 original-format fixture (v1 key names, interleaved
// RoPE, fp16, tied output.weight) reproduces PyTorch's logits and greedy ids after the q/k row
// permutation (and also unpermuted with the interleaved kernel); key renames; the CLI end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { convertPthStateDict, importPth, interleavedToRotateHalf, v1KeyToHf } from '../../src/formats/import-pth.js';
import { loadModelFolder } from '../../src/formats/hf-folder.js';
import type { HostTensor } from '../../src/formats/safetensors.js';
import { readPth } from '../../src/formats/pth.js';
import type { MiniMindForCausalLM } from '../../src/model/model.js';
import { argmax, f32, fixturePath, haveFixture, i32, loadFixture, relErr } from './helpers.js';

const PTH = 'test/fixtures/v1-original.pth';
const EXPECTED = 'test/fixtures/v1-original-expected.safetensors';
const skip = existsSync(PTH) && existsSync(EXPECTED) ? false : `${PTH} / ${EXPECTED} not found (tools/gen_model_fixtures.py)`;

function greedy(model: MiniMindForCausalLM, prompt: Int32Array, n: number): number[] {
  model.eval();
  return noGrad(() => scope(() => {
    const cache = model.newCache(1);
    let logits = model.forward(tensor(prompt, [1, prompt.length], 'int32'), { cache, lastOnly: true }).logits.toArray();
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      out.push(argmax(logits));
      if (i + 1 < n) logits = model.forward(tensor([out[i]], [1, 1], 'int32'), { cache, lastOnly: true }).logits.toArray();
    }
    cache.dispose();
    return out;
  }));
}

function check(model: MiniMindForCausalLM, what: string): number {
  const exp = loadFixture(EXPECTED);
  const ids = i32(exp, 'input_ids');
  const [B, T] = exp.tensors.get('input_ids')!.shape;
  model.eval();
  const logits = noGrad(() => scope(() => model.forward(tensor(ids, [B, T], 'int32')).logits.toArray()));
  const e = relErr(logits, f32(exp, 'logits'));
  assert.ok(e < 5e-6, `${what}: logits rel err ${e}`); // achieved ≤ 1e-6 in fp32
  const n = exp.tensors.get('greedy_ids')!.shape[0];
  assert.deepEqual(greedy(model, ids.slice(0, Number(exp.metadata.greedy_prompt_len ?? 5)), n), Array.from(i32(exp, 'greedy_ids')), `${what}: greedy ids`);
  return e;
}

test('v1-original.pth: permuted to rotate-half, the logits and greedy ids match PyTorch (interleaved RoPE)', { skip }, (t) => {
  const cfg = { ...loadFixture(EXPECTED).config, rope_interleaved: false };
  const { model, info } = importPth(PTH, cfg);
  assert.equal(info.keyStyle, 'v1');
  assert.equal(info.permuted, true);
  assert.ok(info.dropped.some((d) => d.startsWith('output.weight')));
  t.diagnostic(`permuted import: logits rel err ${check(model, 'permuted').toExponential(2)}`);
  model.dispose();
  // first-release v1 checkpoints carry the causal mask buffer; DDP / torch.compile add prefixes
  const sd = new Map<string, HostTensor>();
  for (const [k, v] of readPth(PTH)) sd.set(`module.${k}`, v);
  sd.set('layers.0.attention.mask', { dtype: 'F32', shape: [1, 1, 4, 4], data: new Float32Array(16) });
  const r = convertPthStateDict(sd, cfg);
  assert.ok(r.dropped.includes('layers.0.attention.mask'));
  assert.ok(r.stateDict.has('model.layers.0.self_attn.q_proj.weight'));
});

test('v1-original.pth: unpermuted with the interleaved RoPE kernel gives the same result', { skip }, (t) => {
  const cfg = { ...loadFixture(EXPECTED).config, rope_interleaved: true };
  const { model, info } = importPth(PTH, cfg);
  assert.equal(info.permuted, false);
  t.diagnostic(`interleaved kernel: logits rel err ${check(model, 'interleaved').toExponential(2)}`);
  model.dispose();
});

test('v1 key names map to HF names; q/k permutation is the documented one', () => {
  assert.equal(v1KeyToHf('layers.3.attention.wq.weight'), 'model.layers.3.self_attn.q_proj.weight');
  assert.equal(v1KeyToHf('layers.3.attention.wo.weight'), 'model.layers.3.self_attn.o_proj.weight');
  assert.equal(v1KeyToHf('layers.0.feed_forward.w1.weight'), 'model.layers.0.mlp.gate_proj.weight');
  assert.equal(v1KeyToHf('layers.0.feed_forward.w2.weight'), 'model.layers.0.mlp.down_proj.weight');
  assert.equal(v1KeyToHf('layers.0.feed_forward.w3.weight'), 'model.layers.0.mlp.up_proj.weight');
  assert.equal(v1KeyToHf('layers.1.feed_forward.gate.weight'), 'model.layers.1.mlp.gate.weight');
  assert.equal(v1KeyToHf('layers.1.feed_forward.experts.2.w3.weight'), 'model.layers.1.mlp.experts.2.up_proj.weight');
  assert.equal(v1KeyToHf('layers.1.feed_forward.shared_experts.w2.weight'), 'model.layers.1.mlp.shared_experts.0.down_proj.weight');
  assert.equal(v1KeyToHf('layers.1.attention_norm.weight'), 'model.layers.1.input_layernorm.weight');
  assert.equal(v1KeyToHf('layers.1.ffn_norm.weight'), 'model.layers.1.post_attention_layernorm.weight');
  assert.equal(v1KeyToHf('tok_embeddings.weight'), 'model.embed_tokens.weight');
  assert.equal(v1KeyToHf('layers.1.attention.bogus'), null);
  // 2 heads of hd 4, one column: rows [h0: 0 1 2 3 | h1: 4 5 6 7] -> [0 2 1 3 | 4 6 5 7]
  assert.deepEqual(Array.from(interleavedToRotateHalf(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 2, 4, 1)), [0, 2, 1, 3, 4, 6, 5, 7]);
});

test('HF-named checkpoints (m2 / minimind-3) pass through unpermuted; prefixes, masks and tied heads are dropped', { skip: haveFixture('minimind3') ? false : 'fixture missing' }, () => {
  const fx = loadFixture(fixturePath('minimind3'));
  const sd = new Map<string, HostTensor>();
  for (const [k, v] of fx.params) sd.set(`module._orig_mod.${k}`, { dtype: 'F32', shape: v.shape, data: v.data });
  sd.set('lm_head.weight', { dtype: 'F32', shape: fx.params.get('model.embed_tokens.weight')!.shape, data: fx.params.get('model.embed_tokens.weight')!.data });
  const r = convertPthStateDict(sd, fx.config);
  assert.equal(r.keyStyle, 'hf');
  assert.equal(r.permuted, false);
  assert.deepEqual([...r.stateDict.keys()].sort(), [...fx.params.keys()].sort());
  assert.deepEqual(r.stateDict.get('model.layers.0.self_attn.q_proj.weight')!.data, fx.params.get('model.layers.0.self_attn.q_proj.weight')!.data);
  const untied = new Map(sd);
  untied.set('lm_head.weight', { dtype: 'F32', shape: [256, 32], data: new Float32Array(256 * 32) });
  assert.throws(() => convertPthStateDict(untied, fx.config), /differs from the embedding, but the config has tie_word_embeddings = true/);
  const v1mixed = new Map(sd);
  v1mixed.set('layers.0.attention.wq.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
  assert.throws(() => convertPthStateDict(v1mixed, fx.config), /mixes v1 key names/);
});

// A MiniMind2 / minimind-3 style .pth written by torch.save: HF key names, fp16 ({k: v.half()}),
// lm_head.weight sharing the embedding's storage, a DDP 'module.' prefix.
const WRITE_HEAD_PTH = `
import sys, torch
from safetensors.torch import load_file
t = load_file(sys.argv[1])
sd = {'module.' + k[6:]: v.half() for k, v in t.items() if k.startswith('param.')}
sd['module.lm_head.weight'] = sd['module.model.embed_tokens.weight']
torch.save(sd, sys.argv[2])
`;

test('a torch.save minimind-3 MoE .pth (HF names, fp16, tied lm_head, module. prefix) imports and runs', { skip: existsSync('.venv/bin/python') && haveFixture('minimind3-moe') ? false : '.venv or fixture missing' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-import-'));
  const pth = join(dir, 'full_sft_32_moe.pth');
  const r = spawnSync('.venv/bin/python', ['-c', WRITE_HEAD_PTH, fixturePath('minimind3-moe'), pth], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const fx = loadFixture(fixturePath('minimind3-moe'));
  const { model, info } = importPth(pth, fx.config);
  assert.equal(info.keyStyle, 'hf');
  assert.equal(info.permuted, false);
  assert.ok(info.dropped.includes('lm_head.weight (tied)'));
  model.eval();
  const logits = noGrad(() => scope(() => model.forward(tensor(i32(fx, 'input_ids'), [2, 16], 'int32')).logits.toArray()));
  const e = relErr(logits, f32(fx, 'logits'));
  t.diagnostic(`fp16 weights vs float64 reference: logits rel err ${e.toExponential(2)}`);
  assert.ok(e < 1e-2, `rel err ${e}`);
  model.dispose();
});

test('minimind import (CLI): .pth -> model folder that loads with the expected logits; a wrong preset is a clear error', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-import-'));
  const cfgFile = join(dir, 'config.json');
  const raw = JSON.parse(loadFixture(EXPECTED).metadata.config);
  writeFileSync(cfgFile, JSON.stringify({ ...raw, rope_interleaved: false }));
  const tok = join(dir, 'tok');
  spawnSync('mkdir', [tok]);
  writeFileSync(join(tok, 'tokenizer.json'), '{}');
  writeFileSync(join(tok, 'tokenizer_config.json'), '{}');
  const out = join(dir, 'out');
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'import', '--pth', PTH, '--config', cfgFile, '--tokenizer', tok, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /v1 \/ m2-legacy key names, q\/k rows permuted/);
  assert.match(r.stdout, /as LlamaForCausalLM/);
  assert.ok(existsSync(join(out, 'tokenizer_config.json')));
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures[0], 'LlamaForCausalLM');
  const { model } = loadModelFolder(out);
  check(model, 'CLI import');
  model.dispose();

  const bad = spawnSync(process.execPath, ['dist/src/cli/main.js', 'import', '--pth', PTH, '--preset', 'v1-small', '--out', join(dir, 'bad')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /shape mismatch: model\.embed_tokens\.weight is \[6400, 512\] in the model, \[256, 32\] in the file/);
  assert.match(bad.stderr, /the checkpoint has: vocab_size 256, hidden_size 32, 2 layers/);
  assert.ok(!existsSync(join(dir, 'bad')));
  const none = spawnSync(process.execPath, ['dist/src/cli/main.js', 'import', '--pth', PTH, '--out', join(dir, 'x')], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /exactly one of --preset or --config/);
});
