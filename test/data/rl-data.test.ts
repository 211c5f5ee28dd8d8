// RLAIF and agent_rl readers: prompts without the final assistant turn, tools from the system
// message, ground truth; one clear `file:line: what` error per bad record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAgentRl, readRlaif } from '../../src/data/rl.js';

const dir = mkdtempSync(join(tmpdir(), 'mm-rldata-'));
const file = (name: string, lines: unknown[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return p;
};

test('RLAIF: the last assistant turn is dropped, gt kept', async () => {
  const p = file('rlaif.jsonl', [
    { conversations: [{ role: 'user', content: '你好' }, { role: 'assistant', content: '无' }] },
    { conversations: [{ role: 'system', content: 's' }, { role: 'user', content: '1+1?' }], gt: 2 },
  ]);
  const r = await readRlaif([p]);
  assert.deepEqual(r[0].messages, [{ role: 'user', content: '你好' }]);
  assert.equal(r[0].gt, undefined);
  assert.deepEqual(r[1].gt, [2]);
  assert.equal(r[1].messages.length, 2);
});

test('agent_rl: tools from the system message (JSON string or list), gt required', async () => {
  const tools = [{ type: 'function', function: { name: 'calculate_math', description: '', parameters: {} } }];
  const p = file('agent.jsonl', [
    { conversations: [{ role: 'system', content: '', tools: JSON.stringify(tools) }, { role: 'user', content: '3*7?' }, { role: 'assistant', content: '' }], gt: ['21'] },
    { conversations: [{ role: 'system', content: '', tools }, { role: 'user', content: 'x' }], gt: [] },
  ]);
  const r = await readAgentRl([p]);
  assert.deepEqual(r[0].tools, tools);
  assert.deepEqual(r[0].gt, ['21']);
  assert.deepEqual(r[1].tools, tools);
  await assert.rejects(readAgentRl([file('nogt.jsonl', [{ conversations: [{ role: 'user', content: 'x' }] }])]), /nogt\.jsonl:1: no 'gt' field/);
});

test('bad records name the file and line; --skip-bad-lines skips them', async () => {
  const p = file('bad.jsonl', [{ conversations: [{ role: 'user', content: 'ok' }] }, '{oops', { text: 'pretrain?' }, { conversations: [{ role: 'assistant', content: 'a' }] }, { conversations: [{ role: 'system', content: '', tools: '[not json' }, { role: 'user', content: 'q' }] }]);
  await assert.rejects(readRlaif([p]), /bad\.jsonl:2: invalid JSON/);
  const bad: string[] = [];
  const r = await readRlaif([p], { skipBadLines: true, onBadLine: (_f, line, why) => bad.push(`${line}: ${why}`) });
  assert.equal(r.length, 1);
  assert.equal(bad.length, 4);
  assert.match(bad[1], /^3: no 'conversations' field/);
  assert.match(bad[2], /^4: the prompt has no user message/);
  assert.match(bad[3], /^5: the system message's 'tools' is not valid JSON/);
  await assert.rejects(readRlaif([join(dir, 'missing.jsonl')]), /data file not found/);
});
