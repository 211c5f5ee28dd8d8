// Every rule reward against MiniMind's own Python on the same inputs (test/fixtures/rl-rewards.json
// from tools/gen_rl_reward_fixtures.py, functions copied verbatim from train_grpo.py / train_agent.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { agentReward, gtFound, repPenalty, thinkRuleReward } from '../../src/train/rl/rewards.js';
import { mockToolRegistry } from '../../src/tools/mock.js';

const fx = JSON.parse(readFileSync('test/fixtures/rl-rewards.json', 'utf8'));
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: got ${a}, MiniMind ${b}`);

test('rep_penalty matches MiniMind (Unicode words, punctuation, the 0.5 cap)', () => {
  for (const c of fx.rep_penalty) close(repPenalty(c.text), c.value, JSON.stringify(c.text));
  assert.ok(fx.rep_penalty.some((c: { value: number }) => c.value === 0.5) && fx.rep_penalty.some((c: { value: number }) => c.value > 0 && c.value < 0.5));
});

test('GRPO rule reward (length, think length, single </think>, repetition) matches MiniMind', () => {
  for (const c of fx.grpo_rule) close(thinkRuleReward(c.text).total, c.value, JSON.stringify(c.text.slice(0, 60)));
  const parts = thinkRuleReward('Let me think about this carefully step by step.</think>The answer is 42, clearly.');
  assert.deepEqual([parts.length, parts.think], [0.5, 1.25]);
});

test('ground truth: substring or numeric match within 1e-6, as validate_gt_in_text', () => {
  for (const c of fx.gt) {
    const found = [...gtFound(c.text, c.gt)].map((i) => c.gt[i]).sort();
    assert.deepEqual(found, c.found, `${c.text} ${JSON.stringify(c.gt)}`);
  }
});

test('agent reward (tool gap, gt share, unfinished, tags, clip) matches MiniMind', () => {
  const registry = mockToolRegistry();
  for (const c of fx.agent) {
    const r = agentReward({ turns: c.turns, gt: c.gt, offered: c.tools, unfinished: c.unfinished, registry });
    close(r.total, c.value, JSON.stringify(c.turns).slice(0, 120));
  }
});
