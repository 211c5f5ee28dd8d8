// Hostile inputs are refused before they allocate: a 1 KB .pth whose stride-0 view describes a
// 2.4 GB tensor, a 1 MB zip bomb (1 GiB of zeros) declaring a small size or an impossible one, a
// config with a billion layers, a model larger than the machine. Each runs in a child process
// whose peak resident memory (VmHWM) is read back: the old loaders reached gigabytes on these.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dagSizePth, deflateBombPth, repeatedTransposePth, stridedViewPth } from './hostile-files.js';
import { configFromDict } from '../../src/model/config.js';
import { parseSafetensors } from '../../src/formats/safetensors.js';
import * as tokenizerLib from '../../src/tokenizer/index.js';

const W = mkdtempSync(join(tmpdir(), 'mm-bounded-'));
const PEAK_MB = 300; // node itself starts near 50 MB

/** Runs `body` (ESM, with readPth / MiniMindForCausalLM in scope) in a child; its error message, peak RSS and time. */
function child(body: string, env: Record<string, string> = {}): { message: string; peakMb: number; seconds: number } {
  const pth = resolve('dist/src/formats/pth.js');
  const model = resolve('dist/src/model/model.js');
  const presets = resolve('dist/src/model/presets.js');
  const src = `
    import { readFileSync } from 'node:fs';
    import { readPth } from ${JSON.stringify(pth)};
    import { MiniMindForCausalLM } from ${JSON.stringify(model)};
    import { presetConfig } from ${JSON.stringify(presets)};
    let message = 'no error';
    try { ${body} } catch (e) { message = e.message; }
    const peak = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
    console.log(JSON.stringify({ message, peak }));`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }); // a loader that hangs fails
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { message: out.message, peakMb: out.peak, seconds: (Date.now() - t0) / 1000 };
}

function refused(what: string, r: ReturnType<typeof child>, want: RegExp): void {
  assert.match(r.message, want, what);
  assert.ok(r.peakMb < PEAK_MB, `${what}: peak RSS ${r.peakMb.toFixed(0)} MB (limit ${PEAK_MB} MB)`);
  assert.ok(r.seconds < 20, `${what}: took ${r.seconds} s`);
}

test('a .pth with a stride-0 view of shape [30000, 20000] over one stored float is refused without allocating it', () => {
  const file = join(W, 'stride0.pth');
  writeFileSync(file, stridedViewPth('model.embed_tokens.weight', 1, [30000, 20000], [0, 0]));
  assert.ok(file.length < 2000);
  const r = child(`readPth(${JSON.stringify(file)})`);
  refused('stride 0', r, /storage "0": view \(offset 0, size \[30000,20000\], stride \[0,0\]\) expands 1 stored elements to 600000000.*damaged or hostile/);
  // a view reaching outside its storage, and a size that is not a list of integers
  writeFileSync(file, stridedViewPth('w', 10, [4, 4], [4, 1]));
  refused('out of bounds', child(`readPth(${JSON.stringify(file)})`), /reaches element 15 but the storage has 10/);
  writeFileSync(file, stridedViewPth('w', 4, [-4], [1]));
  refused('negative size', child(`readPth(${JSON.stringify(file)})`), /bad tensor size \[-4\]/);
  // a size of lists nesting each other twice (2^40 leaves in under 1 KB): named, not walked whole
  writeFileSync(file, dagSizePth(40));
  refused('nested size', child(`readPth(${JSON.stringify(file)})`), /bad tensor size \[\[\[\[.{70,}\.\.\. \(expected up to 64 non-negative integers\)/);
});

test('a .pth that views one stored tensor transposed 300 times is refused before it copies it 300 times', () => {
  const file = join(W, 'transposed.pth');
  writeFileSync(file, repeatedTransposePth(300, 1024, 1024)); // 4 MiB stored (deflated to a few KB), 1.2 GiB of copies
  assert.ok(statSync(file).size < 100_000);
  const r = child(`readPth(${JSON.stringify(file)})`);
  refused('transposed copies', r, /transposed\.pth: storage "0": view \(offset 0, size \[1024,1024\], stride \[1,1024\]\): the strided views of this file would copy \d+ bytes out of the 4194304 it stores .*damaged or hostile/);
  // one transposed view (as a checkpoint of transposed weights holds) loads
  writeFileSync(file, repeatedTransposePth(1, 1024, 1024));
  assert.equal(child(`readPth(${JSON.stringify(file)})`).message, 'no error');
});

test('a weights file that is a named pipe is refused, not waited on for ever', () => {
  const fifo = join(W, 'weights.pth');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  refused('named pipe', child(`readPth(${JSON.stringify(fifo)})`), /weights\.pth: not a regular file/);
  rmSync(fifo);
});

test('zip bombs: 1 GiB of zeros in a 1 MB .pth stops at the declared size, an impossible declaration is refused unread', () => {
  const small = join(W, 'bomb-small.pth');
  writeFileSync(small, deflateBombPth(1 << 30, 1000));
  refused('declares 1000 bytes', child(`readPth(${JSON.stringify(small)})`), /entry "archive\/data\/0" inflates past its declared 1000 bytes/);
  const huge = join(W, 'bomb-huge.pth');
  writeFileSync(huge, deflateBombPth(1 << 30, 2_200_000_000));
  refused('declares 2.2 GB', child(`readPth(${JSON.stringify(huge)})`), /declares 2200000000 bytes from \d+ compressed, more than deflate can produce/);
  // declared honestly: refused when it does not fit in the memory this process may use
  const honest = join(W, 'bomb-honest.pth');
  writeFileSync(honest, deflateBombPth(1 << 30, 1 << 30));
  refused('honest 1 GiB, 256 MB allowed', child(`readPth(${JSON.stringify(honest)})`, { MINIMIND_MEMORY_LIMIT: String(256e6) }), /the compressed storages needs about 1\.07 GB but this machine has 256 MB available/);
});

test('safetensors: entries must tile the data section (1000 names on one 4 MB region would convert to 16 GB of float32)', () => {
  const header: Record<string, unknown> = {};
  for (let i = 0; i < 1000; i++) header[`t${i}`] = { dtype: 'F16', shape: [2 << 20], data_offsets: [0, 4 << 20] };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const buf = Buffer.concat([len, json, Buffer.alloc(4 << 20)]);
  assert.throws(() => parseSafetensors(buf, 'overlap.safetensors'), /overlap\.safetensors: tensor "t\d+": data_offsets \[0, 4194304\] overlap another tensor; the file is damaged/);
});

test('configs: sizes over the limits are refused by validation, a model larger than the machine by its memory estimate', () => {
  assert.throws(() => configFromDict({ hidden_size: 64, num_hidden_layers: 1e9 }, 'config.json'), /config\.json: invalid model configuration:\n {2}num_hidden_layers 1000000000 is over the limit of 1024/);
  assert.throws(() => configFromDict({ hidden_size: 64, vocab_size: 1e30 }, 'config.json'), /vocab_size 1e\+30 is over the limit/);
  // 100 layers of width 4096 (~20G parameters): within the limits, far beyond this machine
  const r = child(`new MiniMindForCausalLM(presetConfig('tiny-3', { hidden_size: 4096, num_hidden_layers: 100 }))`, { MINIMIND_MEMORY_LIMIT: String(8e9) });
  refused('model too large', r, /a model of hidden_size 4096, 100 layers, .*: [\d.]+G parameters \(fp32 weights and RoPE tables\) needs about [\d.]+ GB but this machine has 8\.00 GB available .*choose a smaller configuration/);
});

test('training on the host: gradients and AdamW moments that would not fit are refused before the first step, the run folder removed', () => {
  const { trainTokenizer } = tokenizerLib;
  writeFileSync(join(W, 'pre.jsonl'), Array.from({ length: 8 }, (_, i) => JSON.stringify({ text: `sample text number ${i} for the tokenizer` })).join('\n') + '\n');
  trainTokenizer({ files: [join(W, 'pre.jsonl')], vocabSize: 300, preset: 'minimind3' }).save(join(W, 'tok'));
  // 13.5M parameters: 54 MB of weights fit under 150 MB, the 162 MB of training state do not
  const r = spawnSync(process.execPath, [resolve('dist/src/cli/main.js'), 'pretrain', '--data', 'pre.jsonl', '--tokenizer', 'tok', '--preset', 'tiny-3',
    '--hidden-size', '512', '--num-hidden-layers', '4', '--max-seq-len', '32', '--out', 'run'], { cwd: W, encoding: 'utf8', env: { ...process.env, MINIMIND_BACKEND: 'js', MINIMIND_MEMORY_LIMIT: String(150e6) } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim().split('\n').pop()!, /^minimind: training 13528576 parameters \(gradients and AdamW moments: 162 MB; one micro-batch's activations: about [\d.]+ MB\) needs about \d+ MB but this machine has [\d.]+ MB available/);
  assert.equal(existsSync(join(W, 'run')), false);
});

test('cleanup', () => rmSync(W, { recursive: true, force: true }));
