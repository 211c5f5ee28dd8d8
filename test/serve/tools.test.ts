// Tool calls and reasoning through the server, with the official `openai` client: the prompt
// carries the tools in the minimind-3 template, and an answer that contains a <think> block and
// <tool_call> blocks comes back as reasoning_content, content and OpenAI tool_calls (finish_reason
// "tool_calls"), in a stream as in one response. A scripted engine plays the model (a random tiny
// model cannot be made to emit a tool call); the tokenizer and template are real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { serveContext } from '../../src/serve/load.js';
import { makeServedModel, type ServedFixture } from './fixture.js';
import { ScriptedEngine } from './scripted-engine.js';

const SCRIPT = 'The user wants the weather in Paris.\n</think>\n\nLet me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'Current weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const ASK = [{ role: 'user', content: 'Weather in Paris?' }];

let fx: ServedFixture;
let engine: ScriptedEngine;
let srv: RunningServer;
let client: OpenAI;

before(async () => {
  fx = makeServedModel({ maxPositions: 1024 });
  engine = new ScriptedEngine(fx.tokenizer, SCRIPT);
  srv = await startServer(serveContext(fx.model, fx.tokenizer, {}, engine, 'tiny-chat'), { port: 0 });
  client = new OpenAI({ apiKey: 'none', baseURL: `${srv.url}/v1`, maxRetries: 0 });
});
after(async () => {
  await srv.close();
  fx.cleanup();
});

const lastPrompt = () => fx.tokenizer.decode(engine.prompts[engine.prompts.length - 1]);
const create = (p: Record<string, unknown>) => client.chat.completions.create({ model: 'tiny-chat', ...p } as never) as unknown as Promise<OpenAI.Chat.ChatCompletion>;

test('tools are rendered by the minimind-3 template; the answer comes back as reasoning, content and tool_calls', async () => {
  engine.script = SCRIPT;
  const r = await create({ messages: ASK, tools: TOOLS, chat_template_kwargs: { enable_thinking: true } });
  const prompt = lastPrompt();
  assert.ok(prompt.includes('<tools>\n{"type": "function", "function": {"name": "get_weather"'), prompt);
  assert.ok(prompt.endsWith('<|im_start|>assistant\n<think>\n'));
  const msg = r.choices[0].message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
  assert.equal(msg.reasoning_content, 'The user wants the weather in Paris.');
  assert.equal(msg.content, 'Let me check.');
  assert.equal(msg.tool_calls!.length, 1);
  const call = msg.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  assert.match(call.id, /^call_/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(r.usage!.completion_tokens, fx.tokenizer.encode(SCRIPT).length + 1);
});

test('streamed tool calls: the client\'s own stream accumulator rebuilds the same message', async () => {
  engine.script = SCRIPT;
  const stream = client.chat.completions.stream({ model: 'tiny-chat', messages: ASK as never, tools: TOOLS as never, chat_template_kwargs: { enable_thinking: true } } as never);
  const deltas: Record<string, unknown>[] = [];
  stream.on('chunk', (c) => deltas.push(...c.choices.map((ch) => ch.delta as Record<string, unknown>)));
  const final = await stream.finalChatCompletion();
  const msg = final.choices[0].message;
  assert.equal(msg.content, 'Let me check.');
  const call = msg.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(deltas.map((d) => d.reasoning_content ?? '').join(''), 'The user wants the weather in Paris.');
  assert.ok(!deltas.some((d) => typeof d.content === 'string' && d.content.includes('<tool_call>')), 'no raw tool-call text in the content deltas');
});

test('a tool result goes back as a <tool_response> turn; tool_choice none renders no tools and parses no calls', async () => {
  engine.script = 'It is 20 degrees in Paris.';
  const r = await create({
    messages: [
      ...ASK,
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 20}' },
    ],
    tools: TOOLS,
  });
  const prompt = lastPrompt();
  assert.ok(prompt.includes('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{"temp": 20}\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n'), prompt);
  assert.equal(r.choices[0].message.content, 'It is 20 degrees in Paris.');
  assert.equal(r.choices[0].finish_reason, 'stop');
  engine.script = SCRIPT;
  const none = await create({ messages: ASK, tools: TOOLS, tool_choice: 'none' });
  assert.ok(!lastPrompt().includes('<tools>'));
  assert.equal(none.choices[0].message.tool_calls, undefined);
  assert.equal(none.choices[0].finish_reason, 'stop');
  assert.ok(none.choices[0].message.content!.includes('<tool_call>'));
});

test("tool_choice 'required' is refused with a clear 400", async () => {
  await assert.rejects(create({ messages: ASK, tools: TOOLS, tool_choice: 'required' }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'tool_choice');
});
