// Every command driven through bad input: each case must end with exactly one stderr line
// `minimind: <what is wrong and how to fix it>`, exit code 2, no stack trace, and no file in the
// working folder created, changed or removed (a snapshot of every file's bytes is compared).
// The fixtures (a tokenizer, tiny model folders, data files, an earlier run) are built here with
// the library, so the table needs neither ../shared nor the network.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trainTokenizer } from '../../src/tokenizer/index.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';
import { readSafetensors } from '../../src/formats/safetensors.js';
import { exportPth } from '../../src/formats/export-pth.js';
import { deflateBombPth, stridedViewPth } from '../formats/hostile-files.js';

const cli = resolve('dist/src/cli/main.js');
const W = mkdtempSync(join(tmpdir(), 'mm-errors-'));
const at = (...p: string[]) => join(W, ...p);
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

// --- fixtures -----------------------------------------------------------------------------
const qs = generateQuickstartData(5);
writeFileSync(at('pre.jsonl'), jsonl(qs.pretrainTexts.slice(0, 16).map((text) => ({ text }))));
writeFileSync(at('sft.jsonl'), jsonl(qs.sftConversations.slice(0, 8).map((conversations) => ({ conversations }))));
writeFileSync(at('dpo.jsonl'), jsonl([{ chosen: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }], rejected: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'no' }] }]));
writeFileSync(at('empty.jsonl'), '');
writeFileSync(at('nofield.jsonl'), jsonl([{ body: 'text under the wrong key' }]));
writeFileSync(at('notjson.jsonl'), '{"text": "fine"}\n{"text": oops}\n');
writeFileSync(at('sharegpt.jsonl'), jsonl([{ conversations: [{ from: 'human', value: 'hi' }, { from: 'gpt', value: 'hello' }] }]));
writeFileSync(at('badrole.jsonl'), jsonl([{ conversations: [{ role: 'human', content: 'hi' }, { role: 'assistant', content: 'hello' }] }]));
writeFileSync(at('ids.jsonl'), jsonl([{ ids: [1, 2, 3] }]));
writeFileSync(at('existing.jsonl'), 'keep me\n');
writeFileSync(at('afile'), 'not a folder\n');
mkdirSync(at('emptydir'));
const tok = trainTokenizer({ texts: qs.pretrainTexts, vocabSize: 300, preset: 'minimind3' });
tok.save(at('tok'));
trainTokenizer({ texts: qs.pretrainTexts.slice(0, 40), vocabSize: 310, preset: 'minimind3' }).save(at('tok-other'));
const cfg = presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 });
saveModelFolder(at('model'), new MiniMindForCausalLM(cfg, { seed: 1 }), { tokenizerDir: at('tok') });
// a model whose chat template refuses a system message with raise_exception (as Gemma's and Mistral's do)
saveModelFolder(at('raising'), new MiniMindForCausalLM(cfg, { seed: 1 }), { tokenizerDir: at('tok') });
const raisingCfg = JSON.parse(readFileSync(at('raising', 'tokenizer_config.json'), 'utf8'));
raisingCfg.chat_template = "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for m in messages %}{{ m.content }}{% endfor %}";
writeFileSync(at('raising', 'tokenizer_config.json'), JSON.stringify(raisingCfg));
// a model trained on 4-token rows: its generation_config records max_length 4, its context
saveModelFolder(at('short-context'), new MiniMindForCausalLM(cfg, { seed: 1 }), { tokenizerDir: at('tok'), generation: { max_length: 4 } });
// a model whose embedding has fewer rows than its tokenizer has tokens
saveModelFolder(at('small-vocab'), new MiniMindForCausalLM({ ...cfg, vocab_size: 100 }, { seed: 1 }), { tokenizerDir: at('tok') });
// a model folder whose weights were cut short (a copy that did not finish)
saveModelFolder(at('truncated'), new MiniMindForCausalLM(cfg, { seed: 1 }), { tokenizerDir: at('tok') });
const st = at('truncated', 'model.safetensors');
writeFileSync(st, readFileSync(st).subarray(0, 4000));
// an earlier run, and a run folder locked by a live process (this test's own pid)
mkdirSync(at('run', 'model'), { recursive: true });
writeFileSync(at('run', 'model', 'config.json'), '{}');
writeFileSync(at('run', 'metrics.jsonl'), '{"step": 1, "loss": 3}\n');
mkdirSync(at('locked'));
writeFileSync(at('locked', '.minimind.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname() }));
mkdirSync(at('qs', 'sft'), { recursive: true });
writeFileSync(at('qs', 'results.json'), '{}');
// PyTorch checkpoints: one with a flipped byte inside a tensor (its CRC-32 no longer matches), one cut short
// (v1-original.pth: a tiny v1 model torch.save'd; byte 5000 lies inside its first weight tensor)
const pth = readFileSync('test/fixtures/v1-original.pth');
const flipped = Buffer.from(pth);
flipped[5000] ^= 0xff;
writeFileSync(at('crc.pth'), flipped);
writeFileSync(at('cut.pth'), pth.subarray(0, Math.floor(pth.length / 2)));
copyFileSync('test/fixtures/v1-original.pth', at('good.pth'));
writeFileSync(at('v1.json'), readSafetensors('test/fixtures/v1-original-expected.safetensors').metadata.config);

const base = (stage: string, extra: string[] = []) => [stage, '--data', 'pre.jsonl', '--tokenizer', 'tok', '--preset', 'tiny-3', '--hidden-size', '32', '--num-hidden-layers', '1', '--max-seq-len', '32', '--out', 'new-run', ...extra];
const sftArgs = (extra: string[] = []) => ['sft', '--data', 'sft.jsonl', '--init-from', 'model', '--max-seq-len', '64', '--out', 'new-run', ...extra];

// [argv, the message it must print]
const CASES: [string[], RegExp][] = [
  [['frobnicate'], /unknown command 'frobnicate'/],
  // tokenizer
  [['tokenizer', 'frob'], /unknown tokenizer subcommand 'frob'/],
  [['tokenizer', 'train', '--vocab-size', '300', '--out', 'tok2'], /--data is required/],
  [['tokenizer', 'train', '--data', 'missing.jsonl', '--vocab-size', '300', '--out', 'tok2'], /file not found: missing\.jsonl/],
  [['tokenizer', 'train', '--data', 'pre.jsonl', '--vocab-size', 'abc', '--out', 'tok2'], /--vocab-size/],
  [['tokenizer', 'train', '--data', 'pre.jsonl', '--vocab-size', '300', '--out', 'tok'], /--out tok already holds a tokenizer .*--overwrite/],
  [['tokenizer', 'train', '--data', 'pre.jsonl', '--vocab-size', '300', '--out', 'afile'], /--out afile is a file/],
  [['tokenizer', 'train', '--data', 'empty.jsonl', '--vocab-size', '300', '--out', 'tok2'], /no text to train on in empty\.jsonl/],
  [['tokenizer', 'train', '--data', 'pre.jsonl', '--vocab-size', '100', '--out', 'tok2'], /vocab size 100 is smaller than/],
  [['tokenizer', 'encode', '--tokenizer', 'tok', '--input', 'pre.jsonl', '--output', 'pre.jsonl'], /--output pre\.jsonl is the same file as --input pre\.jsonl/],
  [['tokenizer', 'encode', '--tokenizer', 'tok', '--input', 'pre.jsonl', '--output', './pre.jsonl'], /same file/],
  [['tokenizer', 'encode', '--tokenizer', 'tok', '--input', 'pre.jsonl', '--output', 'existing.jsonl'], /--output existing\.jsonl already exists.*--overwrite/],
  [['tokenizer', 'encode', '--tokenizer', 'tok', '--input', 'notjson.jsonl', '--output', 'ids-out.jsonl'], /notjson\.jsonl:2: not valid JSON/],
  [['tokenizer', 'encode', '--tokenizer', 'nowhere', '--text', 'hi'], /nowhere/],
  [['tokenizer', 'decode', '--tokenizer', 'tok', '--ids', '[1,x]'], /--ids: not valid JSON/],
  [['tokenizer', 'decode', '--tokenizer', 'tok', '--input', 'ids.jsonl', '--output', 'ids.jsonl'], /same file/],
  // pretrain: flags
  [['pretrain', '--tokenizer', 'tok'], /--data is required/],
  [base('pretrain', ['--bogus']), /unknown option '--bogus'/],
  [[...base('pretrain'), 'stray'], /unexpected argument 'stray'/],
  [base('pretrain', ['--epochs', '0']), /--epochs must be an integer ≥ 1, got 0/],
  [base('pretrain', ['--epochs', 'abc']), /--epochs must be a number, got 'abc'/],
  [base('pretrain', ['--batch-size', '1.5']), /--batch-size must be an integer ≥ 1, got 1\.5/],
  [base('pretrain', ['--learning-rate', '-1']), /--learning-rate must be a number in \(0, 1\], got -1/],
  [base('pretrain', ['--learning-rate', '1e39']), /--learning-rate must be a number in \(0, 1\], got 1e\+39/],
  [base('pretrain', ['--weight-decay', '-0.1']), /--weight-decay must be a number in \[0, 1\]/],
  [base('pretrain', ['--grad-clip', '-1']), /--grad-clip must be a number ≥ 0/],
  [base('pretrain', ['--warmup-steps', '-3']), /--warmup-steps must be an integer ≥ 0/],
  [base('pretrain', ['--max-seq-len', '100000']), /--max-seq-len.*max_position_embeddings/],
  [base('pretrain', ['--sft-mask', 'some']), /--sft-mask must be 'all' or 'last'/],
  [base('pretrain', ['--device', 'tpu']), /--device must be cpu, cuda, webgpu or auto, got 'tpu'/],
  [base('pretrain', ['--dtype', 'fp8']), /--dtype must be fp32 or bf16, got 'fp8'/],
  [base('pretrain', ['--hidden-size', '30']), /head_dim must be even/],
  [['pretrain', '--data', 'pre.jsonl', '--tokenizer', 'tok', '--preset', 'nope', '--out', 'new-run'], /nope/],
  // pretrain: paths, data and run folders
  [['pretrain', '--data', 'pre.jsonl', '--out', 'new-run'], /give --tokenizer DIR/],
  [['pretrain', '--data', 'pre.jsonl', '--tokenizer', 'nowhere', '--out', 'new-run'], /--tokenizer: folder not found: nowhere/],
  [['pretrain', '--data', 'pre.jsonl', '--tokenizer', 'emptydir', '--out', 'new-run'], /--tokenizer: no tokenizer\.json in emptydir/],
  [['pretrain', '--data', 'pre.jsonl', '--tokenizer', 'tok', '--preset', 'tiny-3', '--out', 'afile'], /--out .*afile is a file, not a folder/],
  [base('pretrain', ['--data', 'missing.jsonl']), /missing\.jsonl/],
  [base('pretrain', ['--data', 'empty.jsonl']), /no training samples in .*empty\.jsonl/],
  [base('pretrain', ['--data', 'nofield.jsonl']), /nofield\.jsonl:1: missing field 'text'/],
  [base('pretrain', ['--data', 'notjson.jsonl']), /notjson\.jsonl:2: /],
  [base('pretrain', ['--data', 'pre.txt']), /pre\.txt/],
  [[...base('pretrain').slice(0, -2), '--out', 'run'], /run already holds a run \(model, metrics\.jsonl\); continue it with --resume, replace it with --overwrite/],
  [[...base('pretrain').slice(0, -2), '--out', 'locked'], /another run \(pid \d+\) is writing to .*locked/],
  [base('pretrain', ['--resume']), /--resume: .*new-run has no complete checkpoint/],
  [base('pretrain', ['--resume', '--overwrite']), /--resume and --overwrite contradict each other/],
  // sft: model and tokenizer consistency, conversation data
  [['sft', '--data', 'sft.jsonl', '--out', 'new-run'], /give --init-from MODEL_DIR/],
  [sftArgs(['--init-from', 'nowhere']), /--init-from: folder not found: nowhere/],
  [sftArgs(['--tokenizer', 'tok-other']), /--tokenizer tok-other is not the tokenizer of --init-from model.*drop --tokenizer/],
  [sftArgs(['--hidden-size', '64']), /--init-from model fixes the architecture; drop --hidden-size/],
  [sftArgs(['--preset', 'tiny']), /drop --preset/],
  [sftArgs(['--init-from', 'small-vocab']), /has \d+ tokens but the model in small-vocab only 100 embedding rows/],
  [sftArgs(['--init-from', 'truncated']), /--init-from: cannot load model folder .*truncated/],
  [sftArgs(['--data', 'sharegpt.jsonl']), /sharegpt\.jsonl:1: message 0 uses ShareGPT keys/],
  [sftArgs(['--data', 'badrole.jsonl']), /badrole\.jsonl:1: message 0 has role 'human'; use one of system, user, assistant, tool/],
  [sftArgs(['--data', 'pre.jsonl']), /pre\.jsonl:1: missing field 'conversations'/],
  // lora, dpo, distill
  [['lora', '--data', 'sft.jsonl', '--out', 'new-run'], /--init-from MODEL_DIR is required/],
  [['lora', '--data', 'sft.jsonl', '--init-from', 'model', '--lora-rank', '0', '--out', 'new-run'], /--lora-rank must be an integer ≥ 1, got 0/],
  [['lora', '--data', 'sft.jsonl', '--init-from', 'model', '--lora-targets', 'nothing_proj', '--out', 'new-run'], /--lora-targets: .*nothing_proj/],
  [['dpo', '--data', 'dpo.jsonl', '--out', 'new-run'], /--init-from MODEL_DIR is required/],
  [['dpo', '--data', 'dpo.jsonl', '--init-from', 'model', '--beta', '-1', '--out', 'new-run'], /--beta must be a number > 0, got -1/],
  [['dpo', '--data', 'dpo.jsonl', '--init-from', 'model', '--logp-reduce', 'max', '--out', 'new-run'], /--logp-reduce must be 'sum' or 'mean', got 'max'/],
  [['dpo', '--data', 'sft.jsonl', '--init-from', 'model', '--max-seq-len', '64', '--out', 'new-run'], /sft\.jsonl:1: missing field 'chosen'/],
  [['distill', '--data', 'sft.jsonl', '--out', 'new-run'], /--teacher MODEL_DIR is required/],
  [['distill', '--data', 'sft.jsonl', '--teacher', 'model', '--alpha', '2', '--out', 'new-run'], /--alpha must be a number in \[0, 1\], got 2/],
  [['distill', '--data', 'sft.jsonl', '--teacher', 'model', '--temperature', '0', '--out', 'new-run'], /--temperature must be a number > 0, got 0/],
  [['distill', '--data', 'sft.jsonl', '--teacher', 'nowhere', '--out', 'new-run'], /--teacher: cannot load model folder nowhere/],
  [['distill', '--data', 'sft.jsonl', '--teacher', 'model', '--tokenizer', 'tok-other', '--out', 'new-run'], /is not the teacher's/],
  // using a model folder
  [['generate', '--prompt', 'hi'], /--model is required/],
  [['generate', '--model', 'nowhere', '--prompt', 'hi'], /model folder not found: nowhere/],
  [['generate', '--model', 'model'], /--prompt is required/],
  [['generate', '--model', 'model', '--prompt', 'hi', '--temperature', '-1'], /--temperature must be >= 0/],
  [['generate', '--model', 'model', '--prompt', 'hi', '--max-new-tokens', 'many'], /--max-new-tokens must be a number, got 'many'/],
  [['generate', '--model', 'truncated', '--prompt', 'hi'], /truncated/],
  [['chat', '--model', 'nowhere'], /not found: nowhere/],
  [['generate', '--model', 'short-context', '--prompt', 'What is the capital of France?'], /the prompt is \d+ tokens; the model's context is 4 tokens, with no room left to answer/],
  [['chat', '--model', 'raising', '--system', 'Be brief.'], /the chat template refused these messages: System role not supported/],
  [['generate', '--model', 'raising', '--system', 'Be brief.', '--prompt', 'hi'], /the chat template refused these messages: System role not supported/],
  [['serve'], /--model is required/],
  [['serve', '--model', 'nowhere'], /model folder not found: nowhere/],
  [['serve', '--model', 'afile'], /afile is a file, not a model folder/],
  [['serve', '--model', 'truncated'], /cannot load model folder truncated/],
  [['serve', '--model', 'model', '--port', '99999'], /--port must be an integer in \[0, 65535\], got 99999/],
  [['serve', '--model', 'model', '--max-prefill-tokens', '0'], /--max-prefill-tokens must be a positive integer, got 0/],
  [['serve', '--model', 'model', '--weights', 'int4'], /--weights must be fp32, bf16 or q8, got 'int4'/],
  [['serve', '--model', 'model', '--device', 'tpu'], /--device must be cpu, cuda, webgpu or auto/],
  [['serve', '--model', 'model', '--adapter', 'nowhere'], /adapter folder not found: nowhere/],
  // import / export
  [['import', '--pth', 'missing.pth', '--preset', 'tiny', '--out', 'imported'], /--pth missing\.pth: no such file/],
  [['import', '--pth', 'good.pth', '--out', 'imported'], /give exactly one of --preset or --config/],
  [['import', '--pth', 'crc.pth', '--config', 'v1.json', '--out', 'imported'], /crc\.pth: zip: entry .* fails its CRC-32 check.*damaged/],
  [['import', '--pth', 'cut.pth', '--preset', 'tiny', '--out', 'imported'], /cut\.pth: not a zip archive.*truncated/],
  [['import', '--pth', 'good.pth', '--preset', 'tiny', '--out', 'model'], /--out model already exists.*--overwrite/],
  [['export', '--model', 'model', '--merge-lora', 'emptydir', '--out', 'model'], /--out model is the same folder as --model model/],
  [['export', '--model', 'model', '--merge-lora', 'emptydir', '--out', 'run'], /--out run already exists/],
  [['export', '--model', 'model', '--out', 'merged', '--save-dtype', 'int8'], /--save-dtype must be fp32, bf16 or fp16, got 'int8'/],
  [['export', '--model', 'model', '--out', 'model/bf16'], /--out model\/bf16 lies inside --model model: an output must not overlap an input/],
  // serving, evaluation, RL, GGUF, data parallelism (other engineers' commands, same contract)
  [['serve', '--model', 'nowhere'], /model folder not found: nowhere/],
  [['serve', '--model', 'pre.jsonl'], /pre\.jsonl is a file, not a model folder/],
  [['eval', 'ppl', '--model', 'nowhere', '--data', 'pre.jsonl'], /model folder not found: nowhere/],
  [['eval', '--model', 'model'], /unknown eval subcommand/],
  [['grpo', '--data', 'sft.jsonl', '--init-from', 'nowhere', '--out', 'new-run'], /model folder not found: nowhere/],
  [['grpo', '--data', 'sft.jsonl', '--init-from', 'tok', '--out', 'new-run'], /tok has no config\.json/],
  [['ppo', '--data', 'sft.jsonl', '--init-from', 'nowhere', '--out', 'new-run'], /model folder not found: nowhere/],
  [['agent', '--data', 'sft.jsonl', '--init-from', 'nowhere', '--out', 'new-run'], /model folder not found: nowhere/],
  [['export', 'gguf', '--model', 'nowhere', '--out', 'a.gguf'], /model folder not found: nowhere/],
  [['launch', '--nproc-per-node', '0', 'pretrain'], /--nproc-per-node must be an integer ≥ 1, got 0/],
  // bench, quickstart
  [['bench', 'train', '--preset', 'nope'], /bench: .*nope/],
  [['bench', 'train', '--steps', '0'], /--steps must be an integer >= 1/],
  [['quickstart', '--hidden-size', '30', '--out', 'qs-new'], /--hidden-size must be a multiple of 4/],
  [['quickstart', '--out', 'qs'], /qs already holds a quickstart \(sft, results\.json\); replace it with --overwrite/],
];

function snapshot(dir: string, into = new Map<string, string>(), rel = ''): Map<string, string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const r = rel ? `${rel}/${name}` : name;
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) into.set(r, `symlink to nothing: ${readlinkSync(p)}`);
    else if (st.isDirectory()) {
      into.set(r + '/', 'dir');
      snapshot(p, into, r);
    } else into.set(r, createHash('sha1').update(readFileSync(p)).digest('hex'));
  }
  return into;
}

test('every command answers bad input with one `minimind:` line, exit code 2, and no file changed', { timeout: 600_000 }, () => {
  const problems: string[] = [];
  for (const [argv, want] of CASES) {
    const before = snapshot(W);
    const r = spawnSync(process.execPath, [cli, ...argv], { cwd: W, encoding: 'utf8', env: { ...process.env, MINIMIND_BACKEND: 'js' } });
    const lines = r.stderr.trim().split('\n');
    const label = `minimind ${argv.join(' ')}`;
    if (r.status !== 2) problems.push(`${label}: exit code ${r.status}, expected 2\n    ${r.stderr.trim().split('\n').slice(0, 4).join('\n    ')}`);
    else if (lines.length !== 1 || !lines[0].startsWith('minimind: ')) problems.push(`${label}: expected one 'minimind:' line, got:\n    ${lines.slice(0, 4).join('\n    ')}`);
    else if (!want.test(lines[0])) problems.push(`${label}: message does not match ${want}:\n    ${lines[0]}`);
    const after = snapshot(W);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
    if (changed.length) problems.push(`${label}: changed files: ${changed.join(', ')}`);
  }
  assert.equal(problems.length, 0, `${problems.length} of ${CASES.length} cases failed:\n${problems.join('\n')}`);
});

// --- issue 21 (data safety): outputs never overlap inputs, data echoes are escaped ----------------
describe('issue 21: no command writes into its inputs or echoes raw control bytes', () => {
  // a data file whose second line carries terminal escapes (retitle the window, clear the screen)
  writeFileSync(at('escapes.jsonl'), '{"text": "fine"}\n{"text": \x1b]0;pwned\x07\x1b[2J}\n');
  // an earlier run whose model is the input (the case), data kept inside a folder, a symlink to the model
  saveModelFolder(at('r21', 'model'), new MiniMindForCausalLM(cfg, { seed: 2 }), { tokenizerDir: at('tok') });
  writeFileSync(at('r21', 'metrics.jsonl'), '{"step": 1, "loss": 3}\n');
  mkdirSync(at('dd'));
  copyFileSync(at('sft.jsonl'), at('dd', 'sft.jsonl'));
  copyFileSync(at('pre.jsonl'), at('dd', 'pre.jsonl'));
  symlinkSync(at('model'), at('model-link'));
  linkSync(at('sft.jsonl'), at('sft-hardlink.jsonl'));
  symlinkSync('model/new-run', at('to-new-run-in-model')); // a symlink to a folder still to be made, inside an input
  mkdirSync(at('v1cfg'));
  copyFileSync(at('v1.json'), at('v1cfg', 'config.json'));
  mkdirSync(at('tok21'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(at('tok', f), at('tok21', f));
  // a model folder with one NaN weight: a new run from it fails at its first step
  const nanModel = new MiniMindForCausalLM(cfg, { seed: 1 });
  const [, q] = nanModel.namedParameters().find(([n]) => n.endsWith('q_proj.weight'))!;
  const values = Float32Array.from(q.toArray() as ArrayLike<number>);
  values[0] = NaN;
  const up = q.backend.upload(values);
  q.backend.copy(q.buf, up, q.size);
  q.backend.free(up);
  saveModelFolder(at('nan-model'), nanModel, { tokenizerDir: at('tok') });
  const contains = (out: string, flag: string, input: string) => new RegExp(`--out ${out} contains ${flag} ${input}: an output must not overlap an input.*choose another --out`);
  const inside = (out: string, flag: string, input: string) => new RegExp(`--out ${out} lies inside ${flag} ${input}: an output must not overlap an input.*choose another --out`);
  const cases: [string[], RegExp][] = [
    [['sft', '--data', 'sft.jsonl', '--init-from', 'r21/model', '--out', 'r21', '--overwrite'], contains('r21', '--init-from', 'r21/model')],
    [['sft', '--data', 'sft.jsonl', '--init-from', 'r21/model', '--out', 'r21', '--resume'], contains('r21', '--init-from', 'r21/model')],
    // --overwrite of an earlier run by one that fails at step 1: the earlier run stays, byte for byte
    [['sft', '--data', 'sft.jsonl', '--init-from', 'nan-model', '--max-seq-len', '64', '--out', 'r21', '--overwrite', '--quiet'], /NaN|not finite/],
    [['sft', '--data', 'sft.jsonl', '--init-from', 'model', '--out', 'model', '--overwrite'], /--out model is the same folder as --init-from model/],
    [['sft', '--data', 'sft.jsonl', '--init-from', 'model', '--out', 'model-link'], /--out model-link is the same folder as --init-from model/],
    [['sft', '--data', 'sft.jsonl', '--init-from', 'model-link', '--out', 'model/sft'], inside('model/sft', '--init-from', 'model-link')],
    [['sft', '--data', 'dd/sft.jsonl', '--init-from', 'model', '--out', 'dd'], contains('dd', '--data', 'dd/sft.jsonl')],
    [['sft', '--data', 'sft.jsonl', '--eval-data', 'dd/sft.jsonl', '--init-from', 'model', '--out', './dd/'], contains('\\./dd/', '--eval-data', 'dd/sft.jsonl')],
    [base('pretrain', ['--out', 'tok']), /--out tok is the same folder as --tokenizer tok/],
    [base('pretrain', ['--out', 'tok/run']), inside('tok/run', '--tokenizer', 'tok')],
    [base('pretrain', ['--out', 'pre.jsonl']), /--out pre\.jsonl is the same file as --data pre\.jsonl/],
    [['lora', '--data', 'sft.jsonl', '--init-from', 'model', '--out', 'model/lora'], inside('model/lora', '--init-from', 'model')],
    [['dpo', '--data', 'dpo.jsonl', '--init-from', 'model', '--out', 'model'], /--out model is the same folder as --init-from model/],
    [['distill', '--data', 'sft.jsonl', '--teacher', 'model', '--out', 'model/student'], inside('model/student', '--teacher', 'model')],
    [['grpo', '--data', 'sft.jsonl', '--init-from', 'model', '--out', 'model/grpo'], inside('model/grpo', '--init-from', 'model')],
    [['ppo', '--data', 'dd/sft.jsonl', '--init-from', 'model', '--out', 'dd'], contains('dd', '--data', 'dd/sft.jsonl')],
    [['agent', '--data', 'sft.jsonl', '--init-from', 'r21/model', '--out', 'r21'], contains('r21', '--init-from', 'r21/model')],
    // the overlap check comes before the reward model is loaded (once its load failed first, or took a model's time)
    [['grpo', '--data', 'sft.jsonl', '--init-from', 'model', '--reward-model', 'tok', '--out', 'tok/grpo'], inside('tok/grpo', '--reward-model', 'tok')],
    // --eval-data is one comma-separated list for the overlap check and for reading (once read as one path 'sft.jsonl,missing.jsonl')
    [['grpo', '--data', 'sft.jsonl', '--eval-data', 'sft.jsonl,missing.jsonl', '--init-from', 'model', '--out', 'new-run'], /^minimind: data file not found: missing\.jsonl$/],
    [['ppo', '--data', 'sft.jsonl', '--eval-data', 'sft.jsonl, dd/sft.jsonl', '--init-from', 'model', '--out', 'dd'], contains('dd', '--eval-data', 'dd/sft.jsonl')],
    [['tokenizer', 'train', '--data', 'dd/pre.jsonl', '--vocab-size', '300', '--out', 'dd', '--overwrite'], contains('dd', '--data', 'dd/pre.jsonl')],
    // the same file under another name: a hard link here; by the same identity (device, inode) a folder
    // under a bind mount, or under another case on a case-insensitive disk (macOS, Windows: --out r for R)
    [['tokenizer', 'encode', '--tokenizer', 'tok', '--input', 'sft.jsonl', '--output', 'sft-hardlink.jsonl', '--overwrite'], /--output sft-hardlink\.jsonl is the same file as --input sft\.jsonl/],
    [['eval', 'toolcall', '--model', 'model', '--data', 'sft.jsonl', '--out', 'sft-hardlink.jsonl', '--overwrite'], /--out sft-hardlink\.jsonl is the same file as --data sft\.jsonl/],
    // a model folder's tokenizer goes with its weights: --overwrite once replaced it, leaving a model no tokenizer fits
    [['tokenizer', 'train', '--data', 'pre.jsonl', '--vocab-size', '300', '--out', 'model', '--overwrite'], /--out model is a model folder \(model\.safetensors\): its weights belong to the tokenizer there.*another --out/],
    // a symlink to a folder still to be made: where it points counts (once not followed, then a stack trace from mkdir)
    [['sft', '--data', 'sft.jsonl', '--init-from', 'model', '--out', 'to-new-run-in-model'], inside('to-new-run-in-model', '--init-from', 'model')],
    // a run that fails leaves no folder, not even the parents it made for --out
    [['sft', '--data', 'pre.jsonl', '--init-from', 'model', '--max-seq-len', '64', '--out', 'made/for/run'], /pre\.jsonl:1: missing field 'conversations'/],
    [['data', 'mix', '--source', 'pre.jsonl', '--tokens', '100', '--output', 'made/for/mix.jsonl'], /--tokens needs --tokenizer/],
    [['data', 'tokenize', 'pre.jsonl', '--tokenizer', 'tok', '--kind', 'sft', '--max-seq-len', '32', '--output', 'made/for/tokens'], /no training samples in pre\.jsonl/],
    // a file written beside the tokenizer it reads: once, --overwrite replaced tokenizer.json with the output (exit 0)
    [['tokenizer', 'encode', '--tokenizer', 'tok21', '--input', 'pre.jsonl', '--output', 'tok21/tokenizer.json', '--overwrite'], /--output tok21\/tokenizer\.json lies inside --tokenizer tok21: an output must not overlap an input/],
    [['tokenizer', 'decode', '--tokenizer', 'tok21', '--input', 'ids.jsonl', '--output', 'tok21/text.jsonl'], /--output tok21\/text\.jsonl lies inside --tokenizer tok21/],
    [['data', 'mix', '--source', 'pre.jsonl', '--tokens', '100', '--tokenizer', 'tok21', '--output', 'tok21/tokenizer.json', '--overwrite'], /--output tok21\/tokenizer\.json lies inside --tokenizer tok21/],
    [['data', 'stats', 'pre.jsonl', '--tokenizer', 'tok21', '--html', 'tok21/tokenizer.json', '--overwrite'], /--html tok21\/tokenizer\.json lies inside --tokenizer tok21/],
    [['import', '--pth', 'good.pth', '--config', 'v1cfg/config.json', '--out', 'v1cfg', '--overwrite'], contains('v1cfg', '--config', 'v1cfg/config.json')],
    [['web', 'build', '--model', 'model', '--out', 'model/site'], inside('model/site', '--model', 'model')],
    [['web', 'build', '--model', 'model', '--out', 'model', '--overwrite'], /--out model is the same folder as --model model/],
    [['import', '--pth', 'good.pth', '--preset', 'tiny', '--out', 'good.pth', '--overwrite'], /--out good\.pth is the same file as --pth good\.pth/],
    [['export', 'gguf', '--model', 'model', '--out', 'model/m.gguf'], inside('model/m.gguf', '--model', 'model')],
    [['eval', 'toolcall', '--model', 'model', '--data', 'sft.jsonl', '--out', 'sft.jsonl', '--overwrite'], /--out sft\.jsonl is the same file as --data sft\.jsonl/],
    // launch checks the stage's inputs before it starts any rank
    [['launch', '--nproc-per-node', '2', ...base('pretrain', ['--data', 'missing.jsonl'])], /^minimind: data file not found: missing\.jsonl$/],
    [['launch', '--nproc-per-node', '2', ...sftArgs(['--out', 'model/sft'])], inside('model/sft', '--init-from', 'model')],
    [base('pretrain', ['--data', 'escapes.jsonl']), /escapes\.jsonl:2: invalid JSON \(Unexpected token '\\x1b', "\{"text": \\x1b\]0;pwned\\x07/],
  ];
  for (const [argv, want] of cases) {
    test(`minimind ${argv.join(' ')}`, () => {
      const before = snapshot(W);
      const r = spawnSync(process.execPath, [cli, ...argv], { cwd: W, encoding: 'utf8', env: { ...process.env, MINIMIND_BACKEND: 'js' } });
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^minimind: /);
      assert.match(lines[0], want);
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(r.stderr), `raw control characters in: ${JSON.stringify(r.stderr)}`);
      assert.deepEqual(snapshot(W), before, 'no file created, changed or removed');
    });
  }
});

// --- issue 21 (input): bounded memory on hostile files, promises kept, one line for every failure --
describe('issue 21: hostile files, overflowing saves, mismatched tokenizers and bad data are one line', () => {
  // a 1 KB .pth whose stride-0 view describes a 2.4 GB tensor; a 256 KB zip bomb (256 MiB of zeros declaring 1000 bytes)
  writeFileSync(at('stride0.pth'), stridedViewPth('model.embed_tokens.weight', 1, [30000, 20000], [0, 0]));
  writeFileSync(at('bomb.pth'), deflateBombPth(1 << 28, 1000));
  // a config.json asking for a billion layers
  saveModelFolder(at('layers1e9'), new MiniMindForCausalLM(cfg, { seed: 1 }), { tokenizerDir: at('tok') });
  const c1e9 = JSON.parse(readFileSync(at('layers1e9', 'config.json'), 'utf8'));
  writeFileSync(at('layers1e9', 'config.json'), JSON.stringify({ ...c1e9, num_hidden_layers: 1e9 }));
  // one weight beyond fp16's range (as a model folder and as an fp32 .pth), one NaN weight
  const setWeight = (m: MiniMindForCausalLM, suffix: string, v: number) => {
    const [, t] = m.namedParameters().find(([n]) => n.endsWith(suffix))!;
    const values = Float32Array.from(t.toArray() as ArrayLike<number>);
    values[0] = v;
    const up = t.backend.upload(values);
    t.backend.copy(t.buf, up, t.size);
    t.backend.free(up);
    return m;
  };
  const bigWeight = setWeight(new MiniMindForCausalLM(cfg, { seed: 1 }), 'layers.0.mlp.down_proj.weight', 70000);
  saveModelFolder(at('big-weight'), bigWeight, { tokenizerDir: at('tok') });
  exportPth(bigWeight, at('big-weight.pth'), { dtype: 'F32' });
  saveModelFolder(at('nan-weights'), setWeight(new MiniMindForCausalLM(cfg, { seed: 1 }), 'layers.0.self_attn.q_proj.weight', NaN), { tokenizerDir: at('tok') });
  // tokenizers that do not belong to the model beside them: another of the same size, a larger one
  const same = trainTokenizer({ texts: qs.pretrainTexts.slice(20, 60), vocabSize: 300, preset: 'minimind3' });
  assert.equal(same.vocabSize, 300);
  same.save(at('tok-same-size'));
  for (const [dir, from] of [['swapped', 'tok-same-size'], ['bigvocab', 'tok-other']]) {
    saveModelFolder(at(dir), new MiniMindForCausalLM(cfg, { seed: 1 }), { tokenizerDir: at('tok') });
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(at(from, f), at(dir, f));
  }
  // an added token with an id no tokenizer of this size has; a chat template that refuses every conversation
  mkdirSync(at('tok-badadded'));
  const tj = JSON.parse(readFileSync(at('tok', 'tokenizer.json'), 'utf8'));
  tj.added_tokens[tj.added_tokens.length - 1].id = 999999;
  writeFileSync(at('tok-badadded', 'tokenizer.json'), JSON.stringify(tj));
  copyFileSync(at('tok', 'tokenizer_config.json'), at('tok-badadded', 'tokenizer_config.json'));
  saveModelFolder(at('raises'), new MiniMindForCausalLM(cfg, { seed: 1 }), { tokenizerDir: at('tok') });
  const tc = JSON.parse(readFileSync(at('raises', 'tokenizer_config.json'), 'utf8'));
  writeFileSync(at('raises', 'tokenizer_config.json'), JSON.stringify({ ...tc, chat_template: "{{ raise_exception('System role not supported') }}" }));
  // a chat template that loops a billion times (once V8's fatal out-of-memory at 1.9 GB)
  saveModelFolder(at('loops'), new MiniMindForCausalLM(cfg, { seed: 1 }), { tokenizerDir: at('tok') });
  writeFileSync(at('loops', 'tokenizer_config.json'), JSON.stringify({ ...tc, chat_template: '{% for i in range(1000000000) %}x{% endfor %}' }));
  writeFileSync(at('agent.jsonl'), jsonl([{ conversations: [{ role: 'user', content: 'What is 6 times 7?' }], gt: ['42'] }]));
  writeFileSync(at('content123.jsonl'), jsonl([{ conversations: [{ role: 'user', content: 123 }, { role: 'assistant', content: 'x' }] }]));
  writeFileSync(at('blank.txt'), '\n  \n\t\n');
  // a sharded folder whose index names a file outside it
  mkdirSync(at('shard-outside'));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(at('model', f), at('shard-outside', f));
  writeFileSync(at('shard-outside', 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { 'model.embed_tokens.weight': '../model/model.safetensors' } }));
  writeFileSync(at('letters.txt'), 'a\nb\nc\n');

  const fp16 = /tensor model\.layers\.0\.mlp\.down_proj\.weight holds 70000 \(in magnitude\), beyond fp16's largest value 65504; save as bf16 or fp32/;
  const swapped = (flagDir: string) => new RegExp(`the tokenizer in ${flagDir} \\(sha256:[0-9a-f]{16}\\) is not the one the model in ${flagDir} was trained with \\(sha256:[0-9a-f]{16}, config\\.json\\): its ids would mean other tokens`);
  // [argv, the message, stdin]
  const cases: [string[], RegExp, string?][] = [
    [['import', '--pth', 'stride0.pth', '--preset', 'tiny', '--out', 'imported'], /stride0\.pth: storage "0": view \(offset 0, size \[30000,20000\], stride \[0,0\]\) expands 1 stored elements to 600000000.*damaged or hostile/],
    [['import', '--pth', 'bomb.pth', '--preset', 'tiny', '--out', 'imported'], /bomb\.pth: zip: entry "archive\/data\/0" inflates past its declared 1000 bytes/],
    [['generate', '--model', 'layers1e9', '--prompt', 'hi'], /layers1e9.*num_hidden_layers 1000000000 is over the limit of 1024/],
    [base('pretrain', ['--num-hidden-layers', '100000']), /num_hidden_layers 100000 is over the limit of 1024/],
    [base('pretrain', ['--hidden-size', '16384', '--num-hidden-layers', '200']), /a model of hidden_size 16384, 200 layers, .*parameters \(fp32 weights and RoPE tables\) needs about [\d.]+ TB but this machine has [\d.]+ [kMGT]B available/],
    [['export', 'pth', '--model', 'big-weight', '--out', 'bw.pth'], fp16],
    [['export', 'gguf', '--model', 'big-weight', '--type', 'f16', '--out', 'bw.gguf'], fp16],
    [['import', '--pth', 'big-weight.pth', '--config', 'big-weight/config.json', '--save-dtype', 'fp16', '--out', 'imported'], fp16],
    [sftArgs(['--init-from', 'big-weight', '--save-dtype', 'fp16']), fp16],
    [['dpo', '--data', 'dpo.jsonl', '--init-from', 'big-weight', '--save-dtype', 'fp16', '--out', 'new-run'], fp16],
    [['grpo', '--data', 'sft.jsonl', '--init-from', 'big-weight', '--save-dtype', 'fp16', '--out', 'new-run'], fp16],
    [['generate', '--model', 'shard-outside', '--prompt', 'hi'], /shard-outside\/model\.safetensors\.index\.json: shard "\.\.\/model\/model\.safetensors" is not a file name in the folder; the file is damaged or hostile/],
    [['generate', '--model', 'nan-weights', '--prompt', 'hi'], /the weights hold NaN: model\.layers\.0\.self_attn\.q_proj\.weight\[0\]/],
    // a message of several lines joined into one (once 'folder truncated:; truncated/model.safetensors')
    [['generate', '--model', 'truncated', '--prompt', 'hi'], /^minimind: cannot load model folder truncated; truncated\/model\.safetensors: /],
    // an empty --host (an unset "$HOST") once listened on every interface
    [['serve', '--model', 'model', '--port', '0', '--host', ''], /^minimind: --host is empty; give an address: 127\.0\.0\.1 \(this machine only, the default\), 0\.0\.0\.0/],
    // the RL stages load their --init-from as the supervised ones do (once a stack trace)
    [['grpo', '--data', 'sft.jsonl', '--init-from', 'nan-weights', '--out', 'new-run'], /--init-from: cannot load model folder nan-weights; the weights hold NaN/],
    [['ppo', '--data', 'sft.jsonl', '--init-from', 'nan-weights', '--out', 'new-run'], /--init-from: cannot load model folder nan-weights; the weights hold NaN/],
    [['grpo', '--data', 'sft.jsonl', '--init-from', 'truncated', '--out', 'new-run'], /--init-from: cannot load model folder truncated; .*model\.safetensors/],
    [['generate', '--model', 'swapped', '--prompt', 'hi'], swapped('swapped')],
    [['chat', '--model', 'swapped'], swapped('swapped'), 'hi\n'],
    [['serve', '--model', 'swapped'], swapped('swapped')],
    [sftArgs(['--init-from', 'swapped']), swapped('swapped')],
    [['export', 'gguf', '--model', 'swapped', '--out', 'swapped.gguf'], swapped('swapped')],
    [['generate', '--model', 'bigvocab', '--prompt', 'hi'], /the tokenizer in bigvocab has 310 tokens but the model in bigvocab only 300 embedding rows/],
    [['tokenizer', 'decode', '--tokenizer', 'tok', '--ids', '[6400, 99999]'], /--ids: id 6400 is outside the vocabulary of tok \(ids 0 to 299\)/],
    [['tokenizer', 'decode', '--tokenizer', 'tok', '--ids', '[1e30]'], /--ids: id 1e\+30 is outside the vocabulary/],
    [sftArgs(['--data', 'content123.jsonl']), /content123\.jsonl:1: message 0 \(user\) has a number as 'content' \(123\); it must be a string/],
    [['tokenizer', 'encode', '--tokenizer', 'tok-badadded', '--text', 'hi'], /tokenizer\.json: added_tokens\[\d+\] '[^']+' has id 999999, outside the \d+ ids of this tokenizer/],
    [['tokenizer', 'train', '--data', 'blank.txt', '--vocab-size', '300', '--out', 'tok2'], /no text to train on in blank\.txt \(empty corpus: only whitespace\)/],
    [['tokenizer', 'train', '--data', 'letters.txt', '--vocab-size', '300', '--out', 'tok2'], /no two adjacent characters to merge in the text of letters\.txt \(its words are single characters\)/],
    [['tokenizer', 'train', '--data', 'pre.jsonl', '--vocab-size', '1e30', '--out', 'tok2'], /vocab size 1e\+30 is over the limit of 4194304/],
    [['generate', '--model', 'raises', '--prompt', 'hi'], /the chat template refused these messages: System role not supported/],
    // a one-file output given an existing folder: refused before the work (once a raw EISDIR, or a stack trace)
    [['export', 'pth', '--model', 'model', '--out', 'emptydir', '--overwrite'], /^minimind: --out emptydir is a folder; give a file name \(such as emptydir\/model\.pth\)$/],
    [['export', 'gguf', '--model', 'model', '--out', 'emptydir', '--overwrite'], /^minimind: --out emptydir is a folder; give a file name \(such as emptydir\/model\.gguf\)$/],
    [['tokenizer', 'encode', '--tokenizer', 'tok', '--input', 'pre.jsonl', '--output', 'emptydir', '--overwrite'], /^minimind: --output emptydir is a folder; give a file name/],
    [['eval', 'toolcall', '--model', 'model', '--data', 'sft.jsonl', '--out', 'emptydir', '--overwrite'], /^minimind: --out emptydir is a folder; give a file name/],
    [['chat', '--model', 'raises'], /the chat template refused these messages: System role not supported/, 'hi\n'],
    [['generate', '--model', 'loops', '--prompt', 'hi'], /^minimind: chat template of loops: range\(1000000000\) has 1000000000 elements; templates may loop at most 100000 times/],
    [['chat', '--model', 'loops'], /^minimind: chat template of loops: range\(1000000000\)/, 'hi\n'],
    // RL loop counts with upper limits (once memory grew for minutes: every update of a step is kept until it ends)
    [['ppo', '--data', 'sft.jsonl', '--init-from', 'model', '--ppo-update-iters', '1e9', '--max-steps', '1', '--out', 'new-run'], /^minimind: --ppo-update-iters must be an integer in \[1, 1000\], got 1000000000$/],
    [['grpo', '--data', 'sft.jsonl', '--init-from', 'model', '--num-generations', '1e9', '--out', 'new-run'], /^minimind: --num-generations must be an integer in \[2, 1024\], got 1000000000$/],
    [['agent', '--data', 'agent.jsonl', '--init-from', 'model', '--max-turns', '1e9', '--out', 'new-run'], /^minimind: --max-turns must be an integer in \[1, 100\], got 1000000000$/],
  ];
  for (const [argv, want, input] of cases) {
    test(`minimind ${argv.join(' ')}`, () => {
      const before = snapshot(W);
      const r = spawnSync(process.execPath, [cli, ...argv], { cwd: W, encoding: 'utf8', input, timeout: 60_000, env: { ...process.env, MINIMIND_BACKEND: 'js' } });
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^minimind: /);
      assert.match(lines[0], want);
      assert.deepEqual(snapshot(W), before, 'no file created, changed or removed');
    });
  }
});

test('cleanup', () => rmSync(W, { recursive: true, force: true }));
