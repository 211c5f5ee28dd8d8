// PyTorch .pth reader: tensors read from torch.save files (tools/gen_model_fixtures.py,
// tools/gen_format_fixtures.py) equal the copies Python wrote to safetensors, bit for bit; strided
// views, storage offsets, shared storages, nested checkpoints and deflate zips work; the pickle VM
// refuses anything outside a state dict.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readPth, readPthObject } from '../../src/formats/pth.js';
import { readSafetensors, toFloat32, type HostTensor } from '../../src/formats/safetensors.js';
import { unpickle } from '../../src/formats/pickle.js';

const FIX = 'test/fixtures';

function sameTensor(got: HostTensor, want: HostTensor, what: string): void {
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  assert.equal(got.data.length, want.data.length, `${what}: length`);
  for (let i = 0; i < got.data.length; i++) {
    if (!Object.is(got.data[i], want.data[i])) assert.fail(`${what}[${i}]: ${got.data[i]} !== ${want.data[i]}`);
  }
}

test('v1-original.pth: every fp16 tensor equals the copy in v1-original-expected.safetensors', () => {
  const sd = readPth(`${FIX}/v1-original.pth`);
  const exp = readSafetensors(`${FIX}/v1-original-expected.safetensors`).tensors;
  const expNames = [...exp.keys()].filter((k) => k.startsWith('pth.')).map((k) => k.slice(4)).sort();
  assert.deepEqual([...sd.keys()].sort(), expNames);
  assert.equal(sd.size, 21); // 2 layers x 9 + tok_embeddings + norm + output
  for (const [name, t] of sd) {
    assert.equal(t.dtype, 'F16', name);
    sameTensor(t, exp.get(`pth.${name}`)!, name);
  }
  // v1 names and shapes (hidden 32, 4 q heads / 2 kv heads of 8, FFN 128, vocab 256)
  assert.deepEqual(sd.get('tok_embeddings.weight')!.shape, [256, 32]);
  assert.deepEqual(sd.get('layers.0.attention.wq.weight')!.shape, [32, 32]);
  assert.deepEqual(sd.get('layers.1.attention.wk.weight')!.shape, [16, 32]);
  assert.deepEqual(sd.get('layers.0.feed_forward.w1.weight')!.shape, [128, 32]);
  assert.deepEqual(sd.get('layers.0.feed_forward.w2.weight')!.shape, [32, 128]);
  assert.ok(sd.has('layers.0.attention_norm.weight') && sd.has('layers.1.ffn_norm.weight') && sd.has('norm.weight'));
  // tied output/embedding: one storage in the file, so one buffer here
  assert.equal(sd.get('output.weight')!.data.buffer, sd.get('tok_embeddings.weight')!.data.buffer);
  sameTensor(sd.get('output.weight')!, sd.get('tok_embeddings.weight')!, 'tied');
  // norm weights were drawn around 1: a sanity check that fp16 decoding is right
  const nw = toFloat32(sd.get('norm.weight')!);
  assert.ok(nw.every((v) => v > 0.5 && v < 1.5), 'norm weights near 1');
});

test('deflate-compressed zip reads the same tensors as the stored one', () => {
  const a = readPth(`${FIX}/v1-original.pth`);
  const b = readPth(`${FIX}/pth-deflate.pth`);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, t] of a) sameTensor(b.get(k)!, t, k);
});

test('checkpoint dict: state dict under "model" with views, offsets, stride 0 and every dtype', () => {
  const sd = readPth(`${FIX}/pth-misc.pth`);
  const exp = readSafetensors(`${FIX}/pth-misc-expected.safetensors`).tensors;
  const names = [...exp.keys()].filter((k) => k.startsWith('model.')).map((k) => k.slice(6));
  assert.deepEqual([...sd.keys()], names.sort((x, y) => (x < y ? -1 : 1)));
  for (const name of names) sameTensor(sd.get(name)!, exp.get(`model.${name}`)!, name);
  assert.deepEqual(sd.get('b.transposed')!.shape, [6, 4]);
  assert.deepEqual(sd.get('e.f16')!.shape, [4, 2, 3]);
  assert.deepEqual(sd.get('g.scalar')!.shape, []);
  assert.equal((sd.get('f.i64')!.data as BigInt64Array)[3], 2n ** 33n);
});

test('readPthObject gives the whole checkpoint: numbers, strings, None, tuples, optimizer state', () => {
  const root = readPthObject(`${FIX}/pth-misc.pth`) as Map<string, unknown>;
  assert.ok(root instanceof Map);
  assert.equal(root.get('epoch'), 3);
  assert.equal(root.get('step'), 120);
  assert.equal(root.get('wandb_id'), null);
  assert.equal(root.get('name'), 'pretrain_768');
  assert.equal(root.get('big'), 2 ** 40);
  assert.equal(root.get('neg'), -5);
  assert.equal(root.get('ratio'), 0.5);
  assert.equal(root.get('flag'), true);
  const opt = root.get('optimizer') as Map<string, unknown>;
  const group = (opt.get('param_groups') as Map<string, unknown>[])[0];
  assert.equal(group.get('lr'), 1e-3);
  assert.deepEqual(group.get('betas'), [0.9, 0.999]);
  assert.deepEqual(group.get('params'), [0]);
  const st = (opt.get('state') as Map<number, Map<string, HostTensor>>).get(0)!;
  assert.deepEqual([...toFloat32(st.get('step')!)], [5]);
  sameTensor(st.get('exp_avg')!, readSafetensors(`${FIX}/pth-misc-expected.safetensors`).tensors.get('optimizer.exp_avg')!, 'exp_avg');
});

test('state dict under "state_dict" with module. / _orig_mod. prefixes: stripped, non-tensors dropped', () => {
  const sd = readPth(`${FIX}/pth-prefixed.pth`);
  assert.deepEqual([...sd.keys()], ['x.weight', 'y.weight', 'z.weight']);
  assert.deepEqual([...toFloat32(sd.get('x.weight')!)], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(sd.get('x.weight')!.shape, [2, 3]);
  assert.deepEqual([...toFloat32(sd.get('y.weight')!)], [0, 1, 2, 3]);
  assert.equal(sd.get('z.weight')!.dtype, 'BF16');
  assert.deepEqual([...toFloat32(sd.get('z.weight')!)], [1.5]);
});

test('the pickle VM refuses globals outside the allow-list and never runs them', () => {
  // pickle.dumps of an object whose __reduce__ is (os.system, ('true',)), protocol 2 (os.system pickles as posix.system)
  const evil = Buffer.concat([
    Buffer.from([0x80, 0x02]), Buffer.from('cposix\nsystem\n'), Buffer.from([0x71, 0x00]),
    Buffer.from([0x58, 4, 0, 0, 0]), Buffer.from('true'), Buffer.from([0x85, 0x52, 0x2e]),
  ]);
  assert.throws(() => unpickle(evil, { globals: {}, file: 'evil.pkl' }), /evil\.pkl: pickle: refusing to load global "posix\.system"/);
  // an opcode we do not implement (INST, protocol 0 class instantiation) is an error too
  assert.throws(() => unpickle(Buffer.from('(i__builtin__\nobject\n.'), { globals: {} }), /unsupported opcode 0x69/);
  assert.throws(() => unpickle(Buffer.from([0x80, 0x02, 0x4b]), { globals: {} }), /truncated data/);
  // and the basics work: pickle.dumps({'a': [1, -2, 3.5, None, True], 'b': (b'xy',)}, protocol=3)
  const ok = Buffer.from('80037d71002858010000006171015d7102284b014afeffffff47400c0000000000004e88655801000000627103430278797104857105752e', 'hex');
  const v = unpickle(ok, { globals: {} }) as Map<string, unknown>;
  assert.deepEqual(v.get('a'), [1, -2, 3.5, null, true]);
  assert.deepEqual(v.get('b'), [Uint8Array.from([0x78, 0x79])]);
});

test('non-checkpoint and truncated files fail with a message naming the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pth-test-'));
  try {
    assert.throws(() => readPth(`${FIX}/st-python.safetensors`), /st-python\.safetensors: not a zip archive/);
    const cut = path.join(dir, 'cut.pth');
    const full = fs.readFileSync(`${FIX}/v1-original.pth`);
    fs.writeFileSync(cut, full.subarray(0, full.length - 200));
    assert.throws(() => readPth(cut), (e: Error) => e.message.includes(cut) && /zip/.test(e.message));
    // a zip without data.pkl (e.g. the deflate fixture with the pickle renamed)
    const renamed = path.join(dir, 'nopkl.pth');
    fs.writeFileSync(renamed, Buffer.from(fs.readFileSync(`${FIX}/pth-prefixed.pth`).toString('latin1').replaceAll('data.pkl', 'data.pkx'), 'latin1'));
    assert.throws(() => readPth(renamed), /nopkl\.pth: not a PyTorch zip checkpoint \(no data\.pkl entry/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
