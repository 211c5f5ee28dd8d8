// `minimind launch` with an RL stage on CPU ranks: each rank samples, scores and trains on its slice
// of a step's prompts (the same random streams as one process), its loss weighted by its share,
// the gradients summed through the rendezvous as the supervised stages' are; the run equals the
// one-process run step by step. ppo and agent are refused with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { assertSameWeights, freePort, runCli } from './helpers.js';

const TOK = '../shared/data/minimind-tokenizer/head';
const skip = existsSync(TOK) ? false : `${TOK} not found (shared data absent)`;

const run = (args: string[]) => runCli(args, 180_000);

const records = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.loss !== undefined);

// fp32 gradients summed in another order than one process's; observed |Δ| below 1e-7
const TOL = 1e-5;

test('launch grpo: 2 ranks, each its slice of the prompts, reproduce the 1-process run step by step', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-dist-rl-'));
  try {
    const tok = Tokenizer.load(TOK);
    saveModelFolder(join(dir, 'init'), new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 3 }), { tokenizerDir: TOK });
    const data = join(dir, 'prompts.jsonl');
    // 5 prompts, batch 3: the slices of the 2 ranks are uneven (1 and 2 prompts, then the last batch of 2 is 1 and 1)
    writeFileSync(data, ['1+1?', 'hello', '2+2?', 'hi there', 'name a color'].map((q) => JSON.stringify({ conversations: [{ role: 'user', content: q }] })).join('\n') + '\n');
    const stage = (out: string) => ['grpo', '--data', data, '--init-from', join(dir, 'init'), '--out', out, '--batch-size', '3', '--num-generations', '3', '--max-gen-len', '6',
      '--learning-rate', '1e-3', '--epochs', '2', '--thinking-ratio', '0.5', '--seed', '7', '--save-interval', '100', '--quiet'];
    const one = join(dir, 'one');
    const two = join(dir, 'two');
    const a = run(stage(one));
    assert.equal(a.status, 0, a.stderr);
    const b = run(['launch', '--nproc-per-node', '2', '--master-port', String(await freePort()), ...stage(two).filter((x) => x !== '--quiet')]);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stderr, /data parallel: 2 ranks \(tcp\), global batch 3/);
    const ra = records(one);
    const rb = records(two);
    assert.equal(ra.length, 4);
    assert.deepEqual(rb.map((r) => r.step), ra.map((r) => r.step));
    ra.forEach((r, i) => {
      for (const k of ['loss', 'reward', 'len', 'stopped']) assert.ok(Math.abs(rb[i][k] - r[k]) <= TOL, `step ${r.step} ${k}: 1 process ${r[k]}, 2 ranks ${rb[i][k]}`);
    });
    assert.ok(ra.some((r) => Math.abs(r.loss) > 1e-3), 'the runs had a loss to follow');
    assert.ok(assertSameWeights(one, two, 1e-6, join(dir, 'init')) > 0, 'the policy was updated');
    // the stage that does not split yet says why, in one line, before any rank starts
    const r = run(['launch', '--nproc-per-node', '2', 'ppo', '--data', data, '--init-from', join(dir, 'init')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.trim(), /^minimind: launch: ppo is not data-parallel yet \(.+\); run it as one process/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('launch agent: 2 ranks, each its slice of the prompts and their multi-turn rollouts, reproduce the 1-process run step by step', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-dist-agent-'));
  try {
    const tok = Tokenizer.load(TOK);
    saveModelFolder(join(dir, 'init'), new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 5 }), { tokenizerDir: TOK });
    const tools = JSON.stringify([{ type: 'function', function: { name: 'calculate_math', description: 'math', parameters: { type: 'object', properties: { expression: { type: 'string' } } } } }]);
    const data = join(dir, 'agent.jsonl');
    writeFileSync(data, [1, 2, 3, 4, 5].map((i) => JSON.stringify({ conversations: [{ role: 'system', content: '', tools }, { role: 'user', content: `${i}*7?` }], gt: [String(i * 7)] })).join('\n') + '\n');
    const stage = (out: string) => ['agent', '--data', data, '--init-from', join(dir, 'init'), '--out', out, '--batch-size', '3', '--num-generations', '4', '--max-gen-len', '8',
      '--learning-rate', '1e-3', '--epochs', '1', '--thinking-ratio', '0.5', '--seed', '3', '--save-interval', '100', '--quiet'];
    const one = join(dir, 'one');
    const two = join(dir, 'two');
    const a = run(stage(one));
    assert.equal(a.status, 0, a.stderr);
    const b = run(['launch', '--nproc-per-node', '2', '--master-port', String(await freePort()), ...stage(two)]);
    assert.equal(b.status, 0, b.stderr);
    const ra = records(one);
    const rb = records(two);
    assert.equal(ra.length, 2);
    ra.forEach((r, i) => {
      for (const k of ['loss', 'reward', 'len', 'turns', 'entropy']) assert.ok(Math.abs(rb[i][k] - r[k]) <= TOL, `step ${r.step} ${k}: 1 process ${r[k]}, 2 ranks ${rb[i][k]}`);
    });
    // (a random tiny model earns every sample of a prompt the same agent reward, so the advantages
    // are 0 and the loss is the KL term alone; what is compared is the rollouts: the sampled tokens'
    // entropy and length, the turns and rewards, and the weights after the updates)
    assertSameWeights(one, two, 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
