// Model folders: save -> load round trips for every era, the transformers architecture chosen,
// tokenizer files copied, fused-expert and bf16 folders, clear errors for bad folders, and (when
// .venv exists) transformers itself loading our folders and reproducing PyTorch's logits and
// greedy ids (tools/check_hf_load.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { loadModelFolder, saveModelFolder, hfArchitecture } from '../../src/formats/hf-folder.js';
import { readSafetensors, writeSafetensors, type HostTensor } from '../../src/formats/safetensors.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { f32, fixturePath, haveFixture, i32, loadFixture, relErr } from './helpers.js';

// Relative logits error against PyTorch / transformers in fp32: achieved ≤ 1e-6 (the summary prints it).
const PARITY_TOL = 5e-6;

const PY = '.venv/bin/python';
const PY_SKIP = existsSync(PY) ? false : `${PY} not found (bash tools/setup-venv.sh creates it)`;
const EXPECTED_ARCH: Record<string, string> = {
  'v1': 'LlamaForCausalLM', 'minimind2': 'LlamaForCausalLM', 'minimind3': 'Qwen3ForCausalLM',
  'minimind3-moe': 'Qwen3MoeForCausalLM', 'v1-moe': 'Qwen2MoeForCausalLM',
};

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mm-hf-'));
}

function logitsOf(model: MiniMindForCausalLM, ids: Int32Array, shape: number[]): Float32Array {
  model.eval();
  return noGrad(() => scope(() => model.forward(tensor(ids, shape, 'int32')).logits.toArray() as Float32Array));
}

function fakeTokenizerDir(): string {
  const d = tmp();
  writeFileSync(join(d, 'tokenizer.json'), '{"model": {"type": "BPE"}}');
  writeFileSync(join(d, 'tokenizer_config.json'), '{"chat_template": "{{ messages }}"}');
  return d;
}

const transformersChecks: string[] = [];

for (const variant of Object.keys(EXPECTED_ARCH)) {
  const skip = haveFixture(variant) ? false : `${fixturePath(variant)} not found`;
  test(`model folder ${variant}: saved as ${EXPECTED_ARCH[variant]}, loads back with the same logits`, { skip }, async (t) => {
    const fx = loadFixture(fixturePath(variant));
    const model = new MiniMindForCausalLM(fx.config);
    model.loadStateDict(fx.params);
    const root = tmp();
    const dir = join(root, 'out');
    saveModelFolder(dir, model, { tokenizerDir: fakeTokenizerDir() });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(cfg.architectures, [EXPECTED_ARCH[variant]]);
    assert.equal(hfArchitecture(fx.config), EXPECTED_ARCH[variant]);
    for (const f of ['model.safetensors', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(existsSync(join(dir, f)), f);
    assert.ok(!readSafetensors(join(dir, 'model.safetensors')).tensors.has('lm_head.weight'), 'tied lm_head is not stored');

    const { model: loaded, config } = loadModelFolder(dir);
    assert.equal(config.qk_norm, fx.config.qk_norm);
    assert.equal(config.use_moe, fx.config.use_moe);
    const [B, T] = fx.tensors.get('input_ids')!.shape;
    const got = logitsOf(loaded, i32(fx, 'input_ids'), [B, T]);
    assert.ok(relErr(got, f32(fx, 'logits')) < PARITY_TOL);

    // A subtest of its own, so that without the Python references it is reported as skipped.
    if (EXPECTED_ARCH[variant] !== 'MiniMindForCausalLM') await t.test(`transformers loads it as ${EXPECTED_ARCH[variant]} with the same logits and greedy ids`, { skip: PY_SKIP }, () => {
      const r = spawnSync(PY, ['tools/check_hf_load.py', dir, fixturePath(variant)], { encoding: 'utf8' });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      transformersChecks.push(`${variant}: ${line}`);
      assert.equal(r.status, 0, `transformers check failed: ${line}\n${r.stderr.slice(-2000)}`);
      const res = JSON.parse(line);
      assert.equal(res.architecture, EXPECTED_ARCH[variant]);
      assert.ok(res.max_rel_diff < PARITY_TOL && res.greedy_match, line);
    });
    loaded.dispose();
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  });
}

test('YaRN (minimind-3 inference_rope_scaling): the folder reloads, and transformers computes our logits', { skip: haveFixture('minimind3') ? false : 'fixture missing' }, async (t) => {
  const fx = loadFixture(fixturePath('minimind3'));
  const model = new MiniMindForCausalLM({ ...fx.config, max_position_embeddings: 32768, inference_rope_scaling: true });
  model.loadStateDict(fx.params);
  const ids = i32(fx, 'input_ids');
  const ours = logitsOf(model, ids, [2, 16]);
  assert.ok(relErr(ours, f32(fx, 'logits')) > 1e-2, 'YaRN changes the logits');
  const root = tmp();
  const dir = join(root, 'yarn');
  saveModelFolder(dir, model);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.rope_scaling.rope_type, 'yarn');
  const { model: loaded, config } = loadModelFolder(dir);
  assert.equal(config.rope_scaling?.factor, 16);
  assert.ok(relErr(logitsOf(loaded, ids, [2, 16]), ours) < 1e-6);
  await t.test('transformers computes the same YaRN logits', { skip: PY_SKIP }, () => {
    const expected = join(root, 'expected.safetensors');
    writeSafetensors(expected, { input_ids: { dtype: 'I32', shape: [2, 16], data: ids }, logits: { dtype: 'F32', shape: [2, 16, 256], data: ours } });
    const r = spawnSync(PY, ['tools/check_hf_load.py', dir, expected], { encoding: 'utf8' });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    transformersChecks.push(`minimind3 + YaRN: ${line}`);
    assert.equal(r.status, 0, `transformers check failed: ${line}\n${r.stderr.slice(-2000)}`);
    assert.doesNotMatch(r.stderr, /attention_factor field must be a float/);
  });
  model.dispose();
  loaded.dispose();
  rmSync(root, { recursive: true, force: true });
});

test("MiniMind's own exports load: m2 / HEAD custom MiniMindForCausalLM configs, v1 'Transformer' with pytorch_model.bin", { skip: haveFixture('v1-moe') && haveFixture('minimind3-moe') && existsSync('test/fixtures/v1-original.pth') ? false : 'fixtures missing' }, () => {
  const cases: [string, Record<string, unknown>][] = [
    // MiniMind2 MiniMindConfig field names (model_minimind.py@561979c): DeepSeek MoE, no qk_norm / moe_style fields
    ['v1-moe', { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 256, rms_norm_eps: 1e-5, rope_theta: 1e4,
      max_position_embeddings: 64, intermediate_size: 64, use_moe: true, n_routed_experts: 4, n_shared_experts: 1, num_experts_per_tok: 2, norm_topk_prob: true,
      aux_loss_alpha: 0.1, scoring_func: 'softmax', seq_aux: true, flash_attn: true, dropout: 0.0, hidden_act: 'silu', bos_token_id: 1, eos_token_id: 2 }],
    // HEAD MiniMindConfig field names: num_experts, moe_intermediate_size, router_aux_loss_coef; QK-norm implied
    ['minimind3-moe', { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, vocab_size: 256, rms_norm_eps: 1e-6,
      rope_theta: 1e6, max_position_embeddings: 64, intermediate_size: 128, moe_intermediate_size: 64, use_moe: true, num_experts: 4, num_experts_per_tok: 1,
      norm_topk_prob: true, router_aux_loss_coef: 0.1, tie_word_embeddings: true, hidden_act: 'silu' }],
  ];
  for (const [variant, cfg] of cases) {
    const fx = loadFixture(fixturePath(variant));
    const dir = tmp();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['MiniMindForCausalLM'], model_type: 'minimind', ...cfg }));
    const st = new Map<string, HostTensor>();
    for (const [k, v] of fx.params) st.set(k, { dtype: 'F32', shape: v.shape, data: v.data });
    writeSafetensors(join(dir, 'model.safetensors'), st, { format: 'pt' });
    const { model, config } = loadModelFolder(dir);
    assert.equal(config.moe_style, fx.config.moe_style, variant);
    assert.equal(config.qk_norm, fx.config.qk_norm, variant);
    assert.ok(relErr(logitsOf(model, i32(fx, 'input_ids'), [2, 16]), f32(fx, 'logits')) < PARITY_TOL, variant);
    model.dispose();
  }
  // v1 export_model.py: LMConfig names, class Transformer, pytorch_model.bin with v1 keys (interleaved RoPE)
  const exp = loadFixture('test/fixtures/v1-original-expected.safetensors');
  const dir = tmp();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['Transformer'], model_type: 'minimind', dim: 32, n_layers: 2, n_heads: 4, n_kv_heads: 2,
    vocab_size: 256, hidden_dim: null, multiple_of: 64, norm_eps: 1e-5, max_seq_len: 64, dropout: 0.0, flash_attn: true, use_moe: false }));
  writeFileSync(join(dir, 'pytorch_model.bin'), readFileSync('test/fixtures/v1-original.pth'));
  const { model, config } = loadModelFolder(dir);
  assert.equal(config.intermediate_size, 128);
  assert.ok(relErr(logitsOf(model, i32(exp, 'input_ids'), [2, 16]), f32(exp, 'logits')) < PARITY_TOL);
  model.dispose();
});

// transformers writes a folder itself (save_pretrained: its own config.json spelling with
// rope_parameters, untied lm_head for Llama, its expert layout for Qwen3-MoE) and we must read it.
const SAVE_REF = `

import sys, json, torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM, Qwen3MoeConfig, Qwen3MoeForCausalLM
from safetensors.torch import save_file
kind, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
common = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=8, vocab_size=96,
              max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=1e6 if kind != 'llama' else 1e4)
if kind == 'llama':
    m = LlamaForCausalLM(LlamaConfig(intermediate_size=96, tie_word_embeddings=False, **common))
elif kind == 'qwen3':
    m = Qwen3ForCausalLM(Qwen3Config(intermediate_size=96, tie_word_embeddings=True, **common))
else:
    m = Qwen3MoeForCausalLM(Qwen3MoeConfig(intermediate_size=96, moe_intermediate_size=48, num_experts=4, num_experts_per_tok=2,
                                            norm_topk_prob=True, tie_word_embeddings=True, **common))
with torch.no_grad():
    for p in m.parameters():
        p.normal_(0, 0.2)
m.eval()
ids = torch.randint(0, 96, (2, 12))
with torch.no_grad():
    logits = m(input_ids=ids).logits.float()
m.save_pretrained(out)
save_file({'input_ids': ids.to(torch.int32), 'logits': logits.contiguous()}, out + '/expected.safetensors')
print(json.dumps(sorted(k for k in __import__('safetensors').safe_open(out + '/model.safetensors', 'pt').keys())[:40]))
`;

test('folders written by transformers save_pretrained (Llama untied, Qwen3, Qwen3-MoE top-2) load with the same logits', { skip: existsSync(PY) ? false : `${PY} not found (bash tools/setup-venv.sh)` }, (t) => {
  for (const kind of ['llama', 'qwen3', 'qwen3moe']) {
    const dir = join(tmp(), kind);
    const r = spawnSync(PY, ['-c', SAVE_REF, kind, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const ref = readSafetensors(join(dir, 'expected.safetensors')).tensors;
    const { model, config } = loadModelFolder(dir);
    assert.equal(config.tie_word_embeddings, kind !== 'llama');
    assert.equal(config.use_moe, kind === 'qwen3moe');
    const e = relErr(logitsOf(model, ref.get('input_ids')!.data as Int32Array, [2, 12]), ref.get('logits')!.data as Float32Array);
    t.diagnostic(`${kind}: ${kind === 'qwen3moe' ? (r.stdout.includes('gate_up_proj') ? 'fused experts, ' : 'per-expert keys, ') : ''}logits rel err ${e.toExponential(2)}`);
    assert.ok(e < PARITY_TOL, `${kind}: rel err ${e}`);
    model.dispose();
  }
});

test('transformers check summary: every era transformers has a class for, and YaRN, was checked', { skip: existsSync(PY) ? false : `${PY} not found (bash tools/setup-venv.sh creates it)` }, (t) => {
  for (const l of transformersChecks) t.diagnostic(l);
  assert.equal(transformersChecks.length, Object.values(EXPECTED_ARCH).filter((a) => a !== 'MiniMindForCausalLM').length + 1);
});

test('bf16 folders load within bf16 precision; saving over an existing folder replaces the files', () => {
  const model = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: 64 }), { seed: 3 });
  const dir = tmp();
  saveModelFolder(dir, model, { dtype: 'BF16' });
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  assert.equal(readSafetensors(join(dir, 'model.safetensors')).tensors.get('model.norm.weight')!.dtype, 'BF16');
  const { model: m2 } = loadModelFolder(dir);
  const ids = Int32Array.from([1, 5, 9, 33, 2, 7]);
  const a = logitsOf(model, ids, [1, 6]);
  const b = logitsOf(m2, ids, [1, 6]);
  assert.ok(relErr(b, a) < 3e-2, `bf16 rel err ${relErr(b, a)}`);
  saveModelFolder(dir, model); // existing folder: per-file replace, now F32
  const { model: m3 } = loadModelFolder(dir);
  assert.ok(relErr(logitsOf(m3, ids, [1, 6]), a) < 1e-6);
  for (const m of [model, m2, m3]) m.dispose();
});

test('fused expert tensors (transformers >= 5 layout) and an untied lm_head load', () => {
  const model = new MiniMindForCausalLM(presetConfig('tiny-3-moe', { vocab_size: 64, tie_word_embeddings: false }), { seed: 4 });
  const dir = tmp();
  saveModelFolder(dir, model);
  const st = readSafetensors(join(dir, 'model.safetensors')).tensors;
  assert.ok(st.has('lm_head.weight'));
  const c = model.config;
  const [E, F, d] = [c.n_routed_experts, c.intermediate_size, c.hidden_size];
  const fused = new Map<string, HostTensor>();
  for (const [k, v] of st) if (!/\.experts\.\d+\./.test(k)) fused.set(k, v);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const gu = new Float32Array(E * 2 * F * d);
    const down = new Float32Array(E * d * F);
    for (let e = 0; e < E; e++) {
      const p = `model.layers.${l}.mlp.experts.${e}`;
      gu.set(st.get(`${p}.gate_proj.weight`)!.data as Float32Array, e * 2 * F * d);
      gu.set(st.get(`${p}.up_proj.weight`)!.data as Float32Array, e * 2 * F * d + F * d);
      down.set(st.get(`${p}.down_proj.weight`)!.data as Float32Array, e * d * F);
    }
    fused.set(`model.layers.${l}.mlp.experts.gate_up_proj`, { dtype: 'F32', shape: [E, 2 * F, d], data: gu });
    fused.set(`model.layers.${l}.mlp.experts.down_proj`, { dtype: 'F32', shape: [E, d, F], data: down });
  }
  writeSafetensors(join(dir, 'model.safetensors'), fused, { format: 'pt' });
  const { model: m2 } = loadModelFolder(dir);
  const ids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
  assert.ok(relErr(logitsOf(m2, ids, [2, 4]), logitsOf(model, ids, [2, 4])) < 1e-6);
  model.dispose();
  m2.dispose();
});

test('bad folders: one error lists every problem', () => {
  const empty = tmp();
  assert.throws(() => loadModelFolder(empty), (e: Error) => {
    assert.match(e.message, /missing file: .*config\.json/);
    assert.match(e.message, /missing file: .*model\.safetensors/);
    return true;
  });
  assert.throws(() => loadModelFolder(join(empty, 'nope')), /does not exist/);

  const model = new MiniMindForCausalLM(presetConfig('tiny', { vocab_size: 64 }), { seed: 5 });
  const dir = tmp();
  saveModelFolder(dir, model);
  const cfgPath = join(dir, 'config.json');
  const good = JSON.parse(readFileSync(cfgPath, 'utf8'));
  writeFileSync(cfgPath, JSON.stringify({ ...good, architectures: ['GPT2LMHeadModel'] }));
  assert.throws(() => loadModelFolder(dir), /unknown architecture 'GPT2LMHeadModel'; supported: LlamaForCausalLM, Qwen3ForCausalLM, Qwen3MoeForCausalLM, Qwen2MoeForCausalLM, MiniMindForCausalLM/);
  writeFileSync(cfgPath, '{ not json');
  assert.throws(() => loadModelFolder(dir), /config\.json: not valid JSON/);
  // config says wider layers and more vocabulary than the weights hold; one weight is missing, one is extra
  writeFileSync(cfgPath, JSON.stringify({ ...good, intermediate_size: 256, vocab_size: 100 }));
  const st = readSafetensors(join(dir, 'model.safetensors')).tensors;
  st.delete('model.layers.1.self_attn.o_proj.weight');
  st.set('model.layers.9.mlp.bogus.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
  writeSafetensors(join(dir, 'model.safetensors'), st, { format: 'pt' });
  assert.throws(() => loadModelFolder(dir), (e: Error) => {
    assert.match(e.message, /shape mismatch: model\.embed_tokens\.weight is \[100, 64\] in the model, \[64, 64\] in the file/);
    assert.match(e.message, /shape mismatch: model\.layers\.0\.mlp\.gate_proj\.weight/);
    assert.match(e.message, /missing: model\.layers\.1\.self_attn\.o_proj\.weight/);
    assert.match(e.message, /unexpected: model\.layers\.9\.mlp\.bogus\.weight/);
    return true;
  });
  writeFileSync(cfgPath, JSON.stringify({ ...good, num_attention_heads: 3, hidden_act: 'gelu' }));
  assert.throws(() => loadModelFolder(dir), (e: Error) => {
    assert.match(e.message, /hidden_act 'gelu' is not supported/);
    assert.match(e.message, /num_attention_heads \(3\) must be a multiple of num_key_value_heads/);
    return true;
  });
  const noTok = tmp();
  mkdirSync(join(noTok, 'x'));
  writeFileSync(join(noTok, 'tokenizer.json'), '{}');
  assert.throws(() => saveModelFolder(join(noTok, 'out'), model, { tokenizerDir: noTok }), /lacks tokenizer_config\.json/);
  assert.ok(!existsSync(join(noTok, 'out')));
  model.dispose();
});
