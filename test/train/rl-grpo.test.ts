// The grpo stage end to end on a tiny random model with MiniMind's minimind-3 tokenizer: one
// update raises the log-probability of the samples with positive advantage relative to the
// others (what the loss is for), the reference model is a separate frozen copy (KL 0, then > 0), metrics and the model folder
// are written, and --resume continues a stopped run to the same weights as an uninterrupted one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { saveModelFolder, loadModelFolder as loadFolder } from '../../src/formats/hf-folder.js';
const loadModelFolder = (d: string) => loadFolder(d).model;
import { grpo } from '../../src/train/grpo.js';
import type { RewardFunction } from '../../src/train/rl/reward-fns.js';
import type { RlPrompt } from '../../src/data/rl.js';
import { groupAdvantages } from '../../src/train/rl/losses.js';
import { packRows, promptCompletionRows, sampleGroups, scoreRows } from '../../src/train/rl/rollout.js';

const TOK = '../shared/data/minimind-tokenizer/head';
const skip = existsSync(TOK) ? false : `${TOK} not found (shared data absent)`;

function tinyModelDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mm-grpo-'));
  const tok = Tokenizer.load(TOK);
  const model = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 3 });
  saveModelFolder(join(dir, 'init'), model, { tokenizerDir: TOK, generation: { max_length: 96, do_sample: false } });
  return dir;
}

const prompts: RlPrompt[] = ['1+1?', 'hello', '2+2?', 'hi there'].map((q, i) => ({ messages: [{ role: 'user', content: q }], source: `p${i}` }));
// Reward: how many of the generated ids are even (a signal the tiny model can follow).
const evenIds: RewardFunction = { name: 'even', score: (ss) => ss.map((s) => s.completionIds.filter((id) => id % 2 === 0).length / Math.max(1, s.completionIds.length)) };

test('one GRPO/CISPO update moves log-probs along the advantages', { skip }, async () => {
  const dir = tinyModelDir();
  for (const loss of ['cispo', 'grpo'] as const) {
    const out = join(dir, `run-${loss}`);
    const common = { initFrom: join(dir, 'init'), prompts, rewards: [evenIds], loss, numGenerations: 4, maxNewTokens: 6, batchSize: 2, maxSteps: 1, learningRate: 3e-3, thinkingRatio: 0, seed: 5 };
    // Re-create the first step's samples with the same seed, before and after training.
    const before = loadModelFolder(join(dir, 'init'));
    const tok = Tokenizer.load(join(dir, 'init'));
    await grpo({ ...common, out });
    const after = loadModelFolder(join(out, 'model'));
    const gc = JSON.parse(readFileSync(join(out, 'model', 'generation_config.json'), 'utf8'));
    assert.deepEqual([gc.max_length, gc.do_sample], [96, false], 'the init model\'s generation_config (trained context, sampling) stays with the policy');
    const rec = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(rec[0].reward !== undefined && rec[0].kl !== undefined && rec[0].entropy > 0 && rec[0].len > 0, JSON.stringify(rec[0]));
    // the step's prompts: batch 0 of epoch 0 (seeded); rebuild them exactly as the stage does
    const { BatchPlan } = await import('../../src/data/batches.js');
    const idx = new BatchPlan(prompts.length, { batchSize: 2, seed: 5 }).batchIndices(0, 0);
    const ids = [...idx].map((i) => tok.encode(tok.applyChatTemplate(prompts[i].messages, { addGenerationPrompt: true, openThinking: false })));
    const seed = (5 * 1_000_003 + 0) >>> 0;
    const comps = sampleGroups(before, ids, { numGenerations: 4, maxNewTokens: 6, temperature: 0.8, topP: 0.85, topK: 50, seed, eosTokenId: tok.eosTokenId! });
    const rewards = evenIds.score(comps.map((c) => ({ prompt: prompts[0], completion: '', completionIds: c.ids, finishReason: c.finishReason }))) as number[];
    const adv = groupAdvantages(rewards, 4);
    const packed = packRows(promptCompletionRows(ids, comps), 0);
    const lp0 = scoreRows(before, packed).logp;
    const lp1 = scoreRows(after, packed).logp;
    let dot = 0;
    for (let r = 0; r < packed.R; r++) {
      let d = 0;
      for (let t = 0; t < packed.L; t++) d += (lp1[r * packed.L + t] - lp0[r * packed.L + t]) * packed.mask[r * packed.L + t];
      dot += adv[r] * d;
    }
    assert.ok(adv.some((a) => Math.abs(a) > 0.1), 'the samples should differ in reward');
    assert.ok(dot > 0, `Σ A·Δlogp = ${dot} should be > 0 after a ${loss} step`);
  }
});

test('grpo --resume continues to the same weights as an uninterrupted run', { skip }, async () => {
  const dir = tinyModelDir();
  const common = { initFrom: join(dir, 'init'), prompts, rewards: [evenIds], numGenerations: 3, maxNewTokens: 4, batchSize: 2, epochs: 2, maxSteps: 3, learningRate: 1e-3, thinkingRatio: 0.5, seed: 9, saveInterval: 100 };
  await grpo({ ...common, out: join(dir, 'full') });
  await grpo({ ...common, out: join(dir, 'part'), stopAfter: 2 });
  await grpo({ ...common, out: join(dir, 'part'), resume: true });
  const a = loadModelFolder(join(dir, 'full', 'model')).namedParameters();
  const b = new Map(loadModelFolder(join(dir, 'part', 'model')).namedParameters());
  for (const [name, t] of a) assert.deepEqual(Array.from(t.toArray()), Array.from(b.get(name)!.toArray()), name);
  const recs = readFileSync(join(dir, 'part', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(recs.map((r) => r.step), [1, 2, 3]);
  // the reference is a separate frozen copy: KL is 0 before the first update and grows after it
  assert.equal(recs[0].kl, 0);
  assert.ok(recs[1].kl > 0 && recs[2].kl > 0, JSON.stringify(recs.map((r) => r.kl)));
});

test('a --max-gen-len past the context stops each sample there; a prompt longer than the context is cut to leave room', { skip }, async () => {
  // (once a stack trace: the training forward of prompt + completion ran past max_position_embeddings)
  const dir = mkdtempSync(join(tmpdir(), 'mm-grpo-'));
  const tok = Tokenizer.load(TOK);
  const context = 40;
  saveModelFolder(join(dir, 'init'), new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1, max_position_embeddings: context }), { seed: 3 }), { tokenizerDir: TOK });
  const long: RlPrompt[] = [{ messages: [{ role: 'user', content: 'word '.repeat(60) }], source: 'long' }, ...prompts];
  const summary = await grpo({ initFrom: join(dir, 'init'), prompts: long, rewards: [evenIds], numGenerations: 2, maxNewTokens: 1e9, batchSize: 5, maxSteps: 1, thinkingRatio: 0, seed: 5, out: join(dir, 'run') });
  assert.equal(summary.steps, 1);
  const [rec] = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  // samples that ran to the context: mean trained length well above a few tokens, each row within the context
  assert.ok(rec.len > 5 && rec.len < context, `mean completion length ${rec.len}`);
});

test('loop counts past their limits are one error before anything loads (once memory grew for minutes)', async () => {
  const o = { initFrom: 'not-loaded', prompts, rewards: [evenIds], out: 'not-written' };
  await assert.rejects(grpo({ ...o, numGenerations: 1e9 }), /^UserError: --num-generations must be an integer in \[2, 1024\], got 1000000000$/);
});
