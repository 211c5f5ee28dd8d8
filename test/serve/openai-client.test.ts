// `minimind serve` against the official `openai` npm client on loopback, with a tiny real model:
// responses, streams and usage must be what the library generates for the same prompt, and every
// error must reach the client as the matching OpenAI error class. Raw fetch checks what the client
// hides ([DONE], invalid JSON, a body too large).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import OpenAI from 'openai';
import { serve } from '../../src/serve/load.js';
import type { RunningServer } from '../../src/serve/server.js';
import { generateBatch, type GenerateBatchOptions } from '../../src/model/batch-generate.js';
import type { ChatMessage } from '../../src/tokenizer/chat.js';
import { makeServedModel, type ServedFixture } from './fixture.js';
import { tensor } from '../../src/core/tensor.js';
import { noGrad } from '../../src/core/autograd.js';
import { contentLogprob } from '../../src/serve/logprobs.js';

const KEY = 'sk-test-0123456789';
let fx: ServedFixture;
let srv: RunningServer;
let client: OpenAI;
// The `openai` client types only OpenAI's own fields; MiniMind's extras (top_k, chat_template_kwargs) pass through.
type Params = Record<string, unknown>;
const chat = (p: Params) => client.chat.completions.create({ model: 'tiny-chat', ...p } as never) as unknown as Promise<OpenAI.Chat.ChatCompletion>;
const chatStream = (p: Params) => client.chat.completions.create({ model: 'tiny-chat', stream: true, ...p } as never) as unknown as Promise<AsyncIterable<OpenAI.Chat.ChatCompletionChunk> & { controller: AbortController }>;

before(async () => {
  fx = makeServedModel({ maxPositions: 512 });
  srv = await serve({ model: fx.folder, port: 0, apiKey: KEY, maxBodyBytes: 64 * 1024, maxBatch: 16 });
  client = new OpenAI({ apiKey: KEY, baseURL: `${srv.url}/v1`, maxRetries: 0 });
});
after(async () => {
  await srv.close();
  fx.cleanup();
});

function chatPrompt(messages: ChatMessage[], thinking = false): number[] {
  const t = fx.tokenizer;
  return t.encode(t.applyChatTemplate(messages, { addGenerationPrompt: true, ...(thinking ? { openThinking: true, enableThinking: true } : {}) }));
}

// What the library generates for one prompt with the server's settings: eos 2 stops; the fixture
// has no generation_config.json, so a request's missing settings take transformers' defaults
// (temperature 1, top_p 1, top_k 50).
function reference(prompt: number[], opts: Partial<GenerateBatchOptions> & { maxNewTokens: number }) {
  return generateBatch(fx.model, [prompt], { temperature: 1, topP: 1, topK: 50, stopTokenIds: [2], tokenizer: fx.tokenizer, ...opts });
}

const HELLO: ChatMessage[] = [{ role: 'user', content: 'What is the capital of France?' }];

test('GET /v1/models lists the served model', async () => {
  const list = await client.models.list();
  assert.deepEqual(list.data.map((m) => m.id), ['tiny-chat']);
  assert.equal((await client.models.retrieve('tiny-chat')).id, 'tiny-chat');
});

test('non-stream chat completion: the library\'s greedy answer, exact usage, OpenAI shape', async () => {
  const r = await chat({ messages: HELLO, temperature: 0, max_tokens: 12 });
  const prompt = chatPrompt(HELLO);
  const [want] = reference(prompt, { temperature: 0, maxNewTokens: 12 });
  assert.ok(!/<think>|<\/think>|<tool_call>/.test(want.text!), 'the reference answer has no tags (else content would be split)');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'tiny-chat');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, want.text!.replace(/^\n+/, ''));
  assert.ok(r.choices[0].message.content!.length > 0);
  assert.equal(r.choices[0].finish_reason, want.finishReason);
  assert.deepEqual(r.usage, { prompt_tokens: prompt.length, completion_tokens: want.ids.length + (want.finishReason === 'stop' ? 1 : 0), total_tokens: prompt.length + want.ids.length + (want.finishReason === 'stop' ? 1 : 0) });
});

test('streaming: role first, the same text as non-stream, finish_reason, usage chunk, one id', async () => {
  const stream = await chatStream({ messages: HELLO, temperature: 0, max_tokens: 12, stream_options: { include_usage: true } });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  const full = await chat({ messages: HELLO, temperature: 0, max_tokens: 12 });
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'tiny-chat' && typeof c.created === 'number'));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
  assert.equal(text, full.choices[0].message.content);
  const last = chunks[chunks.length - 1];
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, full.usage);
  const fin = chunks[chunks.length - 2].choices[0];
  assert.equal(fin.finish_reason, full.choices[0].finish_reason);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'usage is null on every chunk but the last');
});

test('raw stream ends with data: [DONE]; without include_usage there is no usage field', async () => {
  const r = await fetch(`${srv.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'tiny-chat', messages: HELLO, stream: true, max_tokens: 4, temperature: 0 }),
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^text\/event-stream/);
  const body = await r.text();
  assert.ok(body.endsWith('data: [DONE]\n\n'), body.slice(-80));
  const events = body.trim().split('\n\n');
  assert.ok(events.every((e) => e.startsWith('data: ')));
  for (const e of events.slice(0, -1)) assert.ok(!('usage' in JSON.parse(e.slice(6))));
});

test('n, seed, temperature, top_k, top_p: each choice is the library\'s seeded sample', async () => {
  const opts = { temperature: 1.1, top_p: 0.9, top_k: 40, seed: 77, max_tokens: 10, n: 3 };
  const r = await chat({ messages: HELLO, ...opts });
  const want = generateBatch(fx.model, [chatPrompt(HELLO)], { temperature: 1.1, topP: 0.9, topK: 40, seed: 77, maxNewTokens: 10, numReturnSequences: 3, stopTokenIds: [2], tokenizer: fx.tokenizer });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
  // Compare through the same splitter: sampled text may contain <think> or <tool_call> tokens.
  let compared = 0;
  r.choices.forEach((c, i) => {
    const w = want[i].text!;
    if (!/<think>|<\/think>|<tool_call>/.test(w)) {
      assert.equal(c.message.content, w.replace(/^\n+/, ''), `choice ${i}`);
      compared++;
    }
    assert.equal(c.finish_reason, want[i].finishReason);
  });
  assert.ok(compared >= 2, `${compared} choices compared`);
  assert.equal(r.usage!.completion_tokens, want.reduce((s, w) => s + w.ids.length + (w.finishReason === 'stop' ? 1 : 0), 0));
  assert.notDeepEqual(r.choices[0].message.content, r.choices[1].message.content);
  const again = await chat({ messages: HELLO, ...opts });
  assert.deepEqual(again.choices.map((c) => c.message.content), r.choices.map((c) => c.message.content), 'the same seed gives the same choices');
});

test('stop strings cut the answer; frequency and presence penalties are honoured', async () => {
  const free = await chat({ messages: HELLO, temperature: 0, max_tokens: 20 });
  const text = free.choices[0].message.content!;
  const stop = text.slice(5, 8);
  assert.ok(stop.length === 3 && text.indexOf(stop) >= 0);
  const cut = await chat({ messages: HELLO, temperature: 0, max_tokens: 20, stop: [stop] });
  assert.equal(cut.choices[0].message.content, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.choices[0].finish_reason, 'stop');
  const pen = await chat({ messages: HELLO, temperature: 0, max_tokens: 20, presence_penalty: 2, frequency_penalty: 2 });
  const [want] = reference(chatPrompt(HELLO), { temperature: 0, maxNewTokens: 20, presencePenalty: 2, frequencyPenalty: 2 });
  assert.equal(pen.choices[0].message.content, want.text!.replace(/^\n+/, ''));
  assert.notEqual(want.text, reference(chatPrompt(HELLO), { temperature: 0, maxNewTokens: 20 })[0].text, 'the penalties change this answer (else the check proves nothing)');
});

test('thinking on (chat_template_kwargs.enable_thinking / open_thinking): the output before </think> is reasoning_content', async () => {
  const prompt = chatPrompt(HELLO, true);
  const [want] = reference(prompt, { temperature: 0, maxNewTokens: 12 });
  assert.ok(!want.text!.includes('</think>'), 'the random model never closes the block in 12 tokens');
  for (const extra of [{ chat_template_kwargs: { enable_thinking: true } }, { open_thinking: true }]) {
    const r = await chat({ messages: HELLO, temperature: 0, max_tokens: 12, ...extra });
    const msg = r.choices[0].message as { content: string | null; reasoning_content?: string };
    assert.equal(msg.reasoning_content, want.text!.replace(/^\n+|\n+$/g, ''));
    assert.equal(msg.content, '');
    assert.equal(r.usage!.prompt_tokens, prompt.length);
  }
});

test('16 parallel streams give exactly the sequential outputs, decoded in one batch', async () => {
  const prompts = Array.from({ length: 16 }, (_, i) => [{ role: 'user', content: `Question ${i}: what is ${i} plus ${i * 3}?` }] as ChatMessage[]);
  const run = async (messages: ChatMessage[]) => {
    const s = await chatStream({ messages, temperature: 0, max_tokens: 24 });
    let text = '';
    let finish: string | null = null;
    for await (const c of s) for (const ch of c.choices) {
      text += ch.delta.content ?? '';
      finish = ch.finish_reason ?? finish;
    }
    return { text, finish };
  };
  const sequential = [];
  for (const p of prompts) sequential.push(await run(p));
  const before = (await (await fetch(`${srv.url}/health`)).json()) as { peakRunning: number };
  assert.ok(before.peakRunning <= 3, `sequential requests ran alone (peak ${before.peakRunning})`);
  const parallel = await Promise.all(prompts.map(run));
  assert.deepEqual(parallel, sequential);
  assert.ok(sequential.every((s) => s.text.length > 0 && s.finish !== null));
  assert.ok(new Set(sequential.map((s) => s.text)).size > 8, 'different prompts give different answers');
  const health = (await (await fetch(`${srv.url}/health`)).json()) as { peakRunning: number };
  assert.ok(health.peakRunning >= 12, `parallel requests were decoded together (peak batch ${health.peakRunning})`);
});

test('a client that disconnects frees its slot at once', async () => {
  const stats = async () => (await (await fetch(`${srv.url}/health`)).json()) as { running: number; cancelled: number };
  const cancelled0 = (await stats()).cancelled;
  const s = await chatStream({ messages: HELLO, temperature: 0, max_tokens: 480 });
  let n = 0;
  for await (const _ of s) if (++n === 3) break; // leaving the loop aborts the request
  let st = await stats();
  for (let i = 0; i < 50 && st.running > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    st = await stats();
  }
  assert.equal(st.running, 0);
  assert.equal(st.cancelled, cancelled0 + 1, 'the sequence was cancelled, not run to its end');
});

test('a reader that never reads does not stall the others', async () => {
  const body = JSON.stringify({ model: 'tiny-chat', messages: HELLO, stream: true, max_tokens: 400, temperature: 0 });
  const stalled = request(`${srv.url}/v1/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' } });
  const gotHeaders = new Promise<void>((resolve) => stalled.on('response', (res) => { res.pause(); resolve(); }));
  stalled.on('error', () => {});
  stalled.end(body);
  await gotHeaders;
  const r = await chat({ messages: [{ role: 'user', content: 'hi' }], temperature: 0, max_tokens: 8 });
  assert.ok(r.choices[0].finish_reason);
  stalled.destroy();
});

test('the legacy completions endpoint: BOS + prompt, stream and non-stream', async () => {
  const t = fx.tokenizer;
  const ids = [t.bosTokenId!, ...t.encode('The capital of Japan')];
  const [want] = reference(ids, { temperature: 0, maxNewTokens: 9 });
  const r = await client.completions.create({ model: 'tiny-chat', prompt: 'The capital of Japan', max_tokens: 9, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].text, want.text);
  assert.equal(r.usage!.prompt_tokens, ids.length);
  const s = await client.completions.create({ model: 'tiny-chat', prompt: 'The capital of Japan', max_tokens: 9, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  for await (const c of s) {
    text += c.choices.map((ch) => ch.text).join('');
    usage = c.usage ?? usage;
  }
  assert.equal(text, want.text);
  assert.deepEqual(usage, r.usage);
});

// ---- logprobs ----

// log_softmax of the model's logits after prompt + ids[0..t), for every t: one full forward
// without a KV cache or batching (a different path from the server's), in float64.
function logSoftmaxRows(prompt: number[], ids: number[]): Float64Array[] {
  const seq = [...prompt, ...ids.slice(0, -1)];
  const V = fx.model.config.vocab_size;
  const all = noGrad(() => fx.model.forward(tensor(Int32Array.from(seq), [1, seq.length], 'int32')).logits.toArray()) as Float32Array;
  return ids.map((_, t) => {
    const row = all.subarray((prompt.length - 1 + t) * V, (prompt.length + t) * V);
    const max = row.reduce((m, x) => Math.max(m, x), -Infinity);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    return Float64Array.from(row, (x) => x - lse);
  });
}

// A token's text when its bytes are whole UTF-8; OpenAI's "bytes:\xNN" form otherwise.
function expectedToken(bytes: number[]): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return 'bytes:' + bytes.map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  }
}

test('logprobs + top_logprobs (non-stream): every generated token with its bytes, log-probability and the top alternatives', async () => {
  const messages: ChatMessage[] = [{ role: 'user', content: '你好，北京是中国的首都吗？' }];
  const r = await chat({ messages, temperature: 0, max_tokens: 16, logprobs: true, top_logprobs: 3 });
  const prompt = chatPrompt(messages);
  const [want] = reference(prompt, { temperature: 0, maxNewTokens: 16 });
  const content = r.choices[0].logprobs!.content!;
  assert.equal(r.choices[0].logprobs!.refusal, null);
  assert.equal(content.length, want.ids.length, 'one entry per generated token (not the stop token)');
  const rows = logSoftmaxRows(prompt, want.ids);
  content.forEach((e, t) => {
    const id = want.ids[t];
    assert.deepEqual(e.bytes, Array.from(fx.tokenizer.tokenBytesOf(id)!), `token ${t}: bytes`);
    assert.equal(e.token, expectedToken(e.bytes!), `token ${t}: string`);
    assert.ok(Math.abs(e.logprob - rows[t][id]) < 1e-4, `token ${t}: logprob ${e.logprob} vs ${rows[t][id]}`);
    // greedy: the chosen token is the most likely one; the alternatives are the top 3 of the full forward
    assert.equal(e.top_logprobs.length, 3);
    const order = Array.from(rows[t].keys()).sort((a, b) => rows[t][b] - rows[t][a] || a - b);
    e.top_logprobs.forEach((alt, k) => {
      assert.deepEqual(alt.bytes, Array.from(fx.tokenizer.tokenBytesOf(order[k])!), `token ${t}, alternative ${k}`);
      assert.ok(Math.abs(alt.logprob - rows[t][order[k]]) < 1e-4);
    });
    assert.equal(e.top_logprobs[0].logprob, e.logprob);
  });
  // The bytes, joined, are the answer's UTF-8 (byte-level tokens may split a character).
  const bytes = content.flatMap((e) => e.bytes!);
  assert.equal(Buffer.from(bytes).toString('utf8'), fx.tokenizer.decode(want.ids));
  assert.ok(content.some((e) => e.token.startsWith('bytes:')), 'the answer has a token that is part of a character (else the bytes: form is untested)');
  // logprobs without top_logprobs: empty alternatives; without logprobs: null
  const plain = await chat({ messages, temperature: 0, max_tokens: 16, logprobs: true });
  assert.deepEqual(plain.choices[0].logprobs!.content!.map((e) => [e.token, e.logprob, e.top_logprobs]), content.map((e) => [e.token, e.logprob, []]));
  assert.equal((await chat({ messages, temperature: 0, max_tokens: 4 })).choices[0].logprobs, null);
});

test('logprobs in a stream: the official client\'s accumulated logprobs equal the non-stream ones', async () => {
  const p = { model: 'tiny-chat', messages: [{ role: 'user', content: 'One plus two?' }], temperature: 0, max_tokens: 20, logprobs: true, top_logprobs: 2 } as const;
  const full = await chat(p);
  const stream = client.chat.completions.stream(p as never);
  let chunksWithEntries = 0;
  stream.on('chunk', (c) => {
    if (c.choices[0]?.logprobs?.content?.length) chunksWithEntries++;
  });
  const done = await stream.finalChatCompletion();
  assert.deepEqual(done.choices[0].logprobs!.content, full.choices[0].logprobs!.content);
  assert.equal(done.choices[0].message.content, full.choices[0].message.content);
  assert.ok(full.choices[0].message.content!.length > 0 && full.choices[0].logprobs!.content!.length === 20);
  assert.ok(chunksWithEntries > 1, 'entries arrive as the tokens stream');
});

// The legacy endpoint's logprobs object for the tokens of one choice, built from the reference:
// the token strings and log-probabilities of a full forward, text_offset = the characters of the
// text before the token (a token ending mid-character starts where that character starts; special
// tokens are not in the text).
function legacyExpected(prompt: number[], ids: number[]) {
  const rows = logSoftmaxRows(prompt, ids);
  const decoder = new TextDecoder('utf-8');
  let chars = 0;
  const text_offset = ids.map((id) => {
    const at = chars;
    if (!fx.tokenizer.isSpecialId(id)) chars += [...decoder.decode(fx.tokenizer.tokenBytesOf(id)!, { stream: true })].length;
    return at;
  });
  return { tokens: ids.map((id) => expectedToken(Array.from(fx.tokenizer.tokenBytesOf(id)!))), rows, text_offset };
}

test('legacy completions logprobs (0..5): tokens, token_logprobs, top_logprobs, text_offset; stream = non-stream', async () => {
  const t = fx.tokenizer;
  const text = '北京是中国';
  const prompt = [t.bosTokenId!, ...t.encode(text)];
  const [want] = reference(prompt, { temperature: 0, maxNewTokens: 12 });
  const r = await client.completions.create({ model: 'tiny-chat', prompt: text, max_tokens: 12, temperature: 0, logprobs: 3 });
  const lp = r.choices[0].logprobs!;
  const exp = legacyExpected(prompt, want.ids);
  assert.equal(r.choices[0].text, want.text);
  assert.deepEqual(lp.tokens, exp.tokens);
  assert.ok(lp.tokens!.some((s) => s.startsWith('bytes:')), 'the answer has a token that is part of a character (else the offsets of split characters are untested)');
  assert.deepEqual(lp.text_offset, exp.text_offset);
  lp.token_logprobs!.forEach((x, i) => assert.ok(Math.abs(x - exp.rows[i][want.ids[i]]) < 1e-4, `token ${i}: ${x} vs ${exp.rows[i][want.ids[i]]}`));
  lp.top_logprobs!.forEach((alts, i) => {
    // greedy: the sampled token is the most likely, so the 3 alternatives are exactly the top 3
    const order = Array.from(exp.rows[i].keys()).sort((a, b) => exp.rows[i][b] - exp.rows[i][a] || a - b).slice(0, 3);
    assert.deepEqual(Object.keys(alts).sort(), order.map((id) => expectedToken(Array.from(t.tokenBytesOf(id)!))).sort(), `token ${i}: alternatives`);
    for (const id of order) assert.ok(Math.abs(alts[expectedToken(Array.from(t.tokenBytesOf(id)!))] - exp.rows[i][id]) < 1e-4);
    assert.equal(alts[lp.tokens![i]], lp.token_logprobs![i]);
  });
  // The stream's chunks, joined per choice, give the same object.
  const s = await client.completions.create({ model: 'tiny-chat', prompt: text, max_tokens: 12, temperature: 0, logprobs: 3, stream: true });
  const joined = { tokens: [] as string[], token_logprobs: [] as number[], top_logprobs: [] as Record<string, number>[], text_offset: [] as number[] };
  let chunks = 0;
  for await (const c of s) {
    const l = c.choices[0]?.logprobs;
    if (!l) continue;
    chunks++;
    joined.tokens.push(...l.tokens!);
    joined.token_logprobs.push(...l.token_logprobs!);
    joined.top_logprobs.push(...l.top_logprobs!);
    joined.text_offset.push(...l.text_offset!);
  }
  assert.deepEqual(joined, lp);
  assert.ok(chunks > 1, 'entries arrive as the tokens stream');
  // logprobs 0: only the sampled token's; sampling (n = 2, seeded): the sampled token is listed even
  // when it is not among the top k, so a dict has k or k + 1 keys
  const zero = (await client.completions.create({ model: 'tiny-chat', prompt: text, max_tokens: 12, temperature: 0, logprobs: 0 })).choices[0].logprobs!;
  assert.deepEqual(zero.top_logprobs, lp.tokens!.map((tok, i) => ({ [tok]: lp.token_logprobs![i] })));
  const sampled = await client.completions.create({ model: 'tiny-chat', prompt: text, max_tokens: 12, temperature: 1.5, seed: 3, n: 2, logprobs: 1 });
  const refs = reference(prompt, { temperature: 1.5, maxNewTokens: 12, seed: 3, numReturnSequences: 2 });
  sampled.choices.forEach((c, k) => {
    const l = c.logprobs!;
    const e = legacyExpected(prompt, refs[k].ids);
    assert.deepEqual(l.tokens, e.tokens);
    assert.deepEqual(l.text_offset, e.text_offset);
    l.top_logprobs!.forEach((alts, i) => {
      const best = Array.from(e.rows[i].keys()).reduce((a, b) => (e.rows[i][b] > e.rows[i][a] ? b : a));
      const keys = new Set([expectedToken(Array.from(t.tokenBytesOf(best)!)), l.tokens![i]]);
      assert.deepEqual(new Set(Object.keys(alts)), keys);
    });
  });
  assert.ok(sampled.choices.some((c) => c.logprobs!.top_logprobs!.some((a) => Object.keys(a).length === 2)), 'some sampled token was not the most likely one');
  assert.equal((await client.completions.create({ model: 'tiny-chat', prompt: text, max_tokens: 2 })).choices[0].logprobs, null);
});

test('a byte-level token that is part of a character: token "bytes:\\xNN", exact bytes', () => {
  const t = fx.tokenizer;
  const id = Array.from({ length: t.vocabSize }, (_, i) => i).find((i) => {
    const b = t.tokenBytesOf(i);
    return b !== undefined && b.length === 1 && b[0] >= 0x80;
  })!;
  assert.ok(id !== undefined);
  const b = t.tokenBytesOf(id)![0];
  assert.deepEqual(contentLogprob(t, id, -1.5), { token: `bytes:\\x${b.toString(16)}`, logprob: -1.5, bytes: [b], top_logprobs: [] });
  const paris = t.encode('Paris')[0];
  assert.equal(contentLogprob(t, paris, -0.1).token, t.decode([paris]));
});

// ---- errors ----

async function apiError(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, `expected an APIError, got ${String(e)}`);
    return e;
  }
  assert.fail('the request should have failed');
}

test('errors reach the client as OpenAI errors with the right status', async () => {
  let e = await apiError(chat({ messages: [] }));
  assert.ok(e instanceof OpenAI.BadRequestError);
  assert.equal(e.param, 'messages');
  e = await apiError(chat({ messages: HELLO, temperature: 'hot' }));
  assert.ok(e instanceof OpenAI.BadRequestError);
  assert.equal(e.param, 'temperature');
  assert.equal(e.type, 'invalid_request_error');
  e = await apiError(chat({ messages: [{ role: 'wizard', content: 'x' }] }));
  assert.equal(e.status, 400);
  assert.equal(e.param, 'messages[0].role');
  e = await apiError(chat({ messages: HELLO, max_tokens: 0 }));
  assert.equal(e.param, 'max_tokens');
  e = await apiError(chat({ messages: HELLO, top_logprobs: 2 }));
  assert.equal(e.param, 'top_logprobs');
  e = await apiError(chat({ messages: HELLO, logprobs: true, top_logprobs: 21 }));
  assert.equal(e.param, 'top_logprobs');
  e = await apiError(chat({ messages: HELLO, logprobs: 'yes' }));
  assert.equal(e.param, 'logprobs');
  e = await apiError(client.completions.create({ model: 'tiny-chat', prompt: 'Hi', logprobs: 6 }));
  assert.ok(e instanceof OpenAI.BadRequestError);
  assert.equal(e.param, 'logprobs');
  e = await apiError(client.completions.create({ model: 'tiny-chat', prompt: 'Hi', logprobs: true as never }));
  assert.equal(e.param, 'logprobs');
  // A prompt longer than the context: 400 with the limits.
  e = await apiError(chat({ messages: [{ role: 'user', content: 'Paris '.repeat(600) }] }));
  assert.ok(e instanceof OpenAI.BadRequestError);
  assert.equal(e.code, 'context_length_exceeded');
  assert.match(e.message, /maximum context length is 512 tokens/);
  e = await apiError(chat({ messages: HELLO, max_tokens: 600 }));
  assert.equal(e.code, 'context_length_exceeded');
  e = await apiError(client.chat.completions.create({ model: 'gpt-4o', messages: HELLO as never }));
  assert.ok(e instanceof OpenAI.NotFoundError);
  assert.equal(e.code, 'model_not_found');
  const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${srv.url}/v1`, maxRetries: 0 });
  e = await apiError(wrong.models.list());
  assert.ok(e instanceof OpenAI.AuthenticationError);
});

test('raw HTTP errors: missing key 401, invalid JSON 400, body too large 413, unknown route 404; the server stays up', async () => {
  const post = (body: string, headers: Record<string, string> = { Authorization: `Bearer ${KEY}` }) =>
    fetch(`${srv.url}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  let r = await post('{}', {});
  assert.equal(r.status, 401);
  assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'missing_api_key');
  r = await post('{"model": "tiny-chat", "messages": [');
  assert.equal(r.status, 400);
  const err = ((await r.json()) as { error: { type: string; code: string; message: string } }).error;
  assert.equal(err.type, 'invalid_request_error');
  assert.equal(err.code, 'invalid_json');
  r = await post(JSON.stringify({ model: 'tiny-chat', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] }));
  assert.equal(r.status, 413);
  assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'request_too_large');
  r = await fetch(`${srv.url}/v1/embeddings`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: '{}' });
  assert.equal(r.status, 404);
  r = await fetch(`${srv.url}/v1/chat/completions`, { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(r.status, 405);
  const ok = await chat({ messages: HELLO, max_tokens: 2 });
  assert.equal(ok.choices.length, 1, 'the server still answers');
});

test('a full queue answers 429 (RateLimitError)', async () => {
  const busy = await serve({ model: fx.folder, port: 0, maxBatch: 1, maxQueue: 0 });
  try {
    const c = new OpenAI({ apiKey: 'unused', baseURL: `${busy.url}/v1`, maxRetries: 0 });
    const long = (await c.chat.completions.create({ model: 'tiny-chat', messages: HELLO as never, max_tokens: 480, temperature: 0, stream: true })) as unknown as AsyncIterable<unknown>;
    const it = long[Symbol.asyncIterator]();
    await it.next(); // the first request holds the only slot
    const e = await apiError(c.chat.completions.create({ model: 'tiny-chat', messages: HELLO as never, max_tokens: 4 }));
    assert.ok(e instanceof OpenAI.RateLimitError);
    await it.return?.();
  } finally {
    await busy.close();
  }
});
