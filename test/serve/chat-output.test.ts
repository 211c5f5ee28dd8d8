// The output splitter must give the same reasoning / content / tool calls however the text is cut
// into streamed pieces, and match what MiniMind's template would render back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOutputParser, parseToolCall, type OutputPart } from '../../src/serve/chat-output.js';

function split(text: string, cuts: number[], opts: { thinking: boolean; toolCalls: boolean }) {
  const p = new ChatOutputParser({ ...opts, callId: (i) => `call_${i}` });
  const parts: OutputPart[] = [];
  let at = 0;
  for (const c of [...cuts, text.length]) {
    parts.push(...p.push(text.slice(at, c)));
    at = c;
  }
  parts.push(...p.end());
  const r = { reasoning: '', content: '', calls: [] as unknown[] };
  for (const x of parts) {
    if ('reasoning' in x) r.reasoning += x.reasoning;
    else if ('content' in x) r.content += x.content;
    else r.calls.push(x.toolCall);
  }
  return r;
}

const CASES: { name: string; text: string; opts: { thinking: boolean; toolCalls: boolean }; want: { reasoning: string; content: string; calls: unknown[] } }[] = [
  {
    name: 'reasoning, answer and two tool calls',
    text: 'Think first.\nStill thinking.\n</think>\n\nLet me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "now", "arguments": "{}"}\n</tool_call>',
    opts: { thinking: true, toolCalls: true },
    want: {
      reasoning: 'Think first.\nStill thinking.',
      content: 'Let me check.',
      calls: [
        { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_1', type: 'function', function: { name: 'now', arguments: '{}' } },
      ],
    },
  },
  {
    name: 'thinking off: plain answer, tags in the middle are text',
    text: '\n\nThe answer is <b>4</b>. A <think> tag later is text.',
    opts: { thinking: false, toolCalls: false },
    want: { reasoning: '', content: 'The answer is <b>4</b>. A <think> tag later is text.', calls: [] },
  },
  {
    name: 'a model that opens its own <think> block',
    text: '<think>\nhmm\n</think>\n\nParis.',
    opts: { thinking: false, toolCalls: true },
    want: { reasoning: 'hmm', content: 'Paris.', calls: [] },
  },
  {
    name: 'a malformed tool call stays text; an unclosed one too',
    text: 'A <tool_call>not json</tool_call> then <tool_call>{"name": "x"',
    opts: { thinking: false, toolCalls: true },
    want: { reasoning: '', content: 'A <tool_call>not json</tool_call> then <tool_call>{"name": "x"', calls: [] },
  },
  {
    name: 'tools not offered: tool-call tags are plain text',
    text: '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>',
    opts: { thinking: false, toolCalls: false },
    want: { reasoning: '', content: '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>', calls: [] },
  },
  {
    name: 'reasoning never closed (length limit)',
    text: 'step one\nstep two\n',
    opts: { thinking: true, toolCalls: true },
    want: { reasoning: 'step one\nstep two', content: '', calls: [] },
  },
];

for (const c of CASES) {
  test(`chat output: ${c.name} — the same split at every cut point`, () => {
    assert.deepEqual(split(c.text, [], c.opts), c.want, 'whole text');
    for (let i = 0; i <= c.text.length; i++) assert.deepEqual(split(c.text, [i], c.opts), c.want, `cut at ${i}`);
    const chars = Array.from({ length: c.text.length }, (_, i) => i);
    assert.deepEqual(split(c.text, chars, c.opts), c.want, 'one character at a time');
  });
}

test('parseToolCall: name required, arguments kept as a JSON string', () => {
  assert.deepEqual(parseToolCall(' {"name": "f", "arguments": {"a": [1, 2]}} '), { name: 'f', arguments: '{"a":[1,2]}' });
  assert.deepEqual(parseToolCall('{"name": "f", "arguments": "{\\"a\\": 1}"}'), { name: 'f', arguments: '{"a": 1}' });
  assert.deepEqual(parseToolCall('{"name": "f"}'), { name: 'f', arguments: '{}' });
  assert.equal(parseToolCall('{"arguments": {}}'), null);
  assert.equal(parseToolCall('[1]'), null);
  assert.equal(parseToolCall('nope'), null);
});
