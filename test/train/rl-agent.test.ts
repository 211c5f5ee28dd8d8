// Multi-turn tool rollouts against hand-written spans, with MiniMind's minimind-3 tokenizer and a
// scripted model: the trained tokens are exactly what the model generated (end-of-turn tokens
// dropped, as MiniMind does), the tool observations in between (the <|im_end|> of the turn, the
// user/<tool_response> block and the next generation prompt) are in the row with mask 0, the
// sequence equals the re-rendered conversation, and the reward sees the turns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { agentRollouts, trajectoryRow } from '../../src/train/rl/agent-rollout.js';
import { agentReward } from '../../src/train/rl/rewards.js';
import { mockToolRegistry, calculateMath } from '../../src/tools/mock.js';
import { packRows } from '../../src/train/rl/rollout.js';
import type { MiniMindForCausalLM } from '../../src/model/model.js';

const TOK = '../shared/data/minimind-tokenizer/head';
const skip = existsSync(TOK) ? false : `${TOK} not found (shared data absent)`;

test('agent rollout: generated tokens trained, observations masked, row = the re-rendered chat', { skip }, async () => {
  const tok = Tokenizer.load(TOK);
  const eos = tok.eosTokenId!;
  const tools = [calculateMath.schema];
  const prompt = { messages: [{ role: 'user', content: '3乘以7等于多少？' }], tools, gt: ['21'], source: 'hand' };
  const call = '<tool_call>\n{"name": "calculate_math", "arguments": {"expression": "3*7"}}\n</tool_call>';
  const answer = '3乘以7等于21。';
  // sample 0 calls the tool then answers; sample 1 answers at once; then 3 turns of calls (unfinished)
  const script: Record<number, string[]> = { 0: [call, answer], 1: [answer], 2: [call, call, call] };
  const generate = (contexts: number[][], turn: number) => {
    // which trajectories are still active: those whose script has a turn `turn`
    const active = [0, 1, 2].filter((s) => script[s].length > turn);
    assert.equal(contexts.length, active.length);
    return active.map((s) => [...tok.encode(script[s][turn]), eos]);
  };
  const trajs = await agentRollouts(null as unknown as MiniMindForCausalLM, tok, mockToolRegistry(), [prompt], {
    numGenerations: 3, maxTurns: 3, maxNewTokens: 64, temperature: 0.8, thinkingRatio: 0, seed: 1, eosTokenId: eos, padTokenId: tok.padTokenId ?? 0, maxTotalLen: 2500, generate,
  });
  const render = (msgs: { role: string; content: string }[], gen: boolean) => tok.encode(tok.applyChatTemplate(msgs, { addGenerationPrompt: gen, openThinking: false, tools }));
  const promptIds = render(prompt.messages, true);

  // sample 0: [prompt][call ids : 1][<|im_end|>\n<|im_start|>user\n<tool_response>...</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n : 0][answer ids : 1]
  const t0 = trajs[0];
  const callIds = tok.encode(call);
  const answerIds = tok.encode(answer);
  const afterCall = render([...prompt.messages, { role: 'assistant', content: call }, { role: 'tool', content: '{"result": "21"}' }], true);
  const obs = afterCall.slice(promptIds.length + callIds.length);
  assert.deepEqual(t0.promptIds, promptIds);
  assert.deepEqual(t0.responseIds, [...callIds, ...obs, ...answerIds]);
  assert.deepEqual(t0.responseMask, [...callIds.map(() => 1), ...obs.map(() => 0), ...answerIds.map(() => 1)]);
  assert.equal(tok.decode(obs), '<|im_end|>\n<|im_start|>user\n<tool_response>\n{"result": "21"}\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
  assert.deepEqual(t0.turns, [call, answer]);
  assert.equal(t0.prefixMismatches, 0);
  assert.equal(t0.unfinished, false);

  // sample 1: one turn, its eos dropped, nothing observed
  assert.deepEqual(trajs[1].responseIds, answerIds);
  assert.deepEqual(trajs[1].responseMask, answerIds.map(() => 1));

  // sample 2: three calls, unfinished; the last observation has no generation prompt
  const t2 = trajs[2];
  assert.equal(t2.unfinished, true);
  assert.equal(t2.turns.length, 3);
  assert.ok(tok.decode(t2.responseIds).endsWith('</tool_response><|im_end|>\n'));
  assert.equal(t2.responseMask.filter((m) => m === 1).length, 3 * callIds.length);

  // the packed row trains exactly the generated tokens: target p is token p + 1
  const packed = packRows([trajectoryRow(t0, 2500)], 0);
  const trainedTargets = [...packed.targets].filter((x) => x !== -100);
  assert.deepEqual(trainedTargets, [...callIds, ...answerIds]);
  assert.equal(packed.mask.reduce((s, m) => s + m, 0), callIds.length + answerIds.length);
  // left truncation keeps the end of the row
  const cut = trajectoryRow(t0, 10);
  assert.deepEqual(cut.ids, [...t0.promptIds, ...t0.responseIds].slice(-10));

  // rewards: called once with the right answer = 3 (clip); answered without a tool; unfinished
  const reg = mockToolRegistry();
  const r = trajs.map((t) => agentReward({ turns: t.turns, gt: ['21'], offered: ['calculate_math'], unfinished: t.unfinished, registry: reg }));
  assert.equal(r[0].total, 3);
  assert.equal(r[0].gtShare, 1);
  assert.equal(r[1].toolCalls, 0);
  assert.ok(r[2].total < 0);
});

test('eval toolcall and agent: commands run on a tiny model and report in one line / one JSON object', { skip }, async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const { MiniMindForCausalLM } = await import('../../src/model/model.js');
  const { presetConfig } = await import('../../src/model/presets.js');
  const { saveModelFolder } = await import('../../src/formats/hf-folder.js');
  const dir = mkdtempSync(join(tmpdir(), 'mm-toolcall-'));
  const tok = Tokenizer.load(TOK);
  saveModelFolder(join(dir, 'm'), new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 3 }), { tokenizerDir: TOK });
  const system = { role: 'system', content: '', tools: JSON.stringify([calculateMath.schema]) };
  const data = join(dir, 'agent.jsonl');
  writeFileSync(data, [1, 2, 3, 4].map((i) => JSON.stringify({ conversations: [system, { role: 'user', content: `${i}*7?` }, { role: 'assistant', content: '' }], gt: [String(i * 7)] })).join('\n'));
  const cli = (args: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  const r = cli(['eval', 'toolcall', '--model', join(dir, 'm'), '--data', data, '--max-new-tokens', '4', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout.trim());
  assert.equal(s.prompts, 4);
  assert.equal(typeof s.accuracy, 'number');
  const limited = cli(['eval', 'toolcall', '--model', join(dir, 'm'), '--data', data, '--max-new-tokens', '4', '--limit', '2', '--json']);
  assert.equal(limited.status, 0, limited.stderr);
  assert.equal(JSON.parse(limited.stdout.trim()).prompts, 2);
  const a = cli(['agent', '--data', data, '--init-from', join(dir, 'm'), '--out', join(dir, 'run'), '--max-gen-len', '4', '--batch-size', '2', '--max-steps', '1', '--quiet']);
  assert.equal(a.status, 0, a.stderr);
  const bad = cli(['agent', '--data', join(dir, 'm', 'config.json'), '--init-from', join(dir, 'm')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^minimind: .*config\.json:1: /);
});
