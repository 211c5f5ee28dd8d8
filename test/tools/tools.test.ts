// Tool use against MiniMind's own Python (test/fixtures/rl-rewards.json, written by
// tools/gen_rl_reward_fixtures.py): calculate_math against Python's eval + json.dumps, the mock
// tools' results and argument checks, the schemas; plus tool-call parsing, the timeout and the
// 2,048-character cut of the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { evaluate, ExpressionError, pyStr, pyFloatRepr } from '../../src/tools/expression.js';
import { AGENT_TOOLS, mockToolRegistry } from '../../src/tools/mock.js';
import { parseToolCalls, unbalancedToolTags } from '../../src/tools/parse.js';
import { MAX_RESULT_CHARS, ToolRegistry } from '../../src/tools/registry.js';

const fx = JSON.parse(readFileSync('test/fixtures/rl-rewards.json', 'utf8'));

test('calculate_math gives what Python eval + json.dumps give, errors where Python raises', async () => {
  const reg = mockToolRegistry();
  let errors = 0;
  for (const c of fx.calc as { expr: string; ok: boolean; json?: string }[]) {
    const r = await reg.run({ name: 'calculate_math', arguments: { expression: c.expr } });
    if (c.ok) assert.equal(r.content, c.json, `expression ${c.expr}`);
    else {
      assert.equal(r.ok, false, `expression ${c.expr} should fail`);
      assert.match(r.content, /^\{"error": /);
      errors++;
    }
  }
  assert.ok(errors >= 1);
});

test('the evaluator refuses anything but arithmetic', () => {
  for (const bad of ['__import__("os")', 'open("x")', 'math.system', 'a+1', '1;2', '[1]', 'lambda: 1', '1 if 1 else 2', '2**999999', 'math.factorial(5000)']) {
    assert.throws(() => evaluate(bad), ExpressionError, bad);
  }
  assert.equal(pyStr(evaluate('sqrt(16)')), '4.0');
  assert.equal(pyFloatRepr(1e22), '1e+22');
  assert.equal(pyFloatRepr(123.456), '123.456');
  assert.equal(pyFloatRepr(0.0001), '0.0001');
});

test('mock tools: same results and argument checks as MiniMind', async () => {
  const reg = mockToolRegistry();
  for (const m of fx.mocks as { name: string; args: Record<string, unknown>; json: string; check: boolean }[]) {
    const r = await reg.run({ name: m.name, arguments: m.args });
    assert.equal(r.content, m.json, `${m.name} ${JSON.stringify(m.args)}`);
    assert.equal(reg.isValidCall({ name: m.name, arguments: m.args }), m.check, `check ${m.name}`);
  }
  assert.deepEqual(AGENT_TOOLS.map((t) => t.schema), fx.tool_schemas);
  assert.equal((await reg.run({ name: 'nope', arguments: {} })).content, '{"error": "tool not found"}');
});

test('tool-call parsing: JSON blocks only, string arguments decoded, unbalanced tags counted', () => {
  const text = 'x<tool_call>\n{"name": "a", "arguments": {"k": 1}}\n</tool_call> <tool_call>not json</tool_call><tool_call>{"name": "b", "arguments": "{\\"q\\": 2}"}</tool_call><tool_call>[1]</tool_call>';
  assert.deepEqual(parseToolCalls(text), [{ name: 'a', arguments: { k: 1 } }, { name: 'b', arguments: { q: 2 } }]);
  assert.equal(unbalancedToolTags('<tool_call> a <tool_call> b </tool_call>'), 1);
  assert.equal(unbalancedToolTags('none'), 0);
});

test('registry: a slow tool times out, a huge result is cut to 2048 characters, a throwing tool reports an error', async () => {
  const schema = (name: string) => ({ type: 'function' as const, function: { name, description: '', parameters: {} } });
  const reg = new ToolRegistry(
    [
      { schema: schema('slow'), run: () => new Promise((r) => setTimeout(() => r({ ok: 1 }), 500)), checkArgs: () => true },
      { schema: schema('big'), run: () => ({ text: '字'.repeat(5000) }), checkArgs: () => true },
      { schema: schema('bad'), run: () => { throw new Error('boom'); }, checkArgs: () => true },
    ],
    50,
  );
  const slow = await reg.run({ name: 'slow', arguments: {} });
  assert.equal(slow.ok, false);
  assert.match(slow.content, /timed out after 50 ms/);
  const big = await reg.run({ name: 'big', arguments: {} });
  assert.equal([...big.content].length, MAX_RESULT_CHARS);
  assert.ok(big.content.startsWith('{"text": "字字'));
  assert.match((await reg.run({ name: 'bad', arguments: {} })).content, /boom/);
});
