// `data convert`: LLaMA-Factory's Alpaca and ShareGPT-DPO demo files convert to exactly the
// MiniMind jsonl that ../shared/data/minimind-format holds (made independently by a field mapping);
// ShareGPT, OpenAI and Alpaca rows of one conversation become the same MiniMind row and so the same
// training tokens; rows that do not fit are counted by reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convert, convertRecord } from '../../src/corpus/convert.js';
import { openDataset } from '../../src/data/datasets.js';
import { FakeTokenizer } from '../data/fake-tokenizer.js';

const SHARED = '../shared/data';
const dir = mkdtempSync(join(tmpdir(), 'mm-convert-'));
const readJsonl = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

for (const [src, to, ref] of [
  ['llamafactory-demo/alpaca_zh_demo.json', 'sft', 'minimind-format/sft_alpaca_zh_demo.jsonl'],
  ['llamafactory-demo/alpaca_en_demo.json', 'sft', 'minimind-format/sft_alpaca_en_demo.jsonl'],
  ['llamafactory-demo/dpo_en_demo.json', 'dpo', 'minimind-format/dpo_en_demo.jsonl'],
  ['llamafactory-demo/dpo_zh_demo.json', 'dpo', 'minimind-format/dpo_zh_demo.jsonl'],
  ['llamafactory-demo/wiki_demo.txt', 'pretrain', 'minimind-format/pretrain_wiki_demo.jsonl'],
] as const) {
  test(`convert ${src} --to ${to} gives ../shared/data/${ref}`, { skip: !existsSync(SHARED) && 'needs ../shared/data' }, async () => {
    const out = join(dir, ref.split('/')[1]);
    const s = await convert({ inputs: [join(SHARED, src)], output: out, to });
    assert.equal(s.rejects.total, 0);
    assert.deepEqual(readJsonl(out), readJsonl(join(SHARED, ref)));
  });
}

const want = { conversations: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'q1' }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'q2\nextra' }, { role: 'assistant', content: 'a2' }] };
const forms = {
  sharegpt: { system: 'be brief', conversations: [{ from: 'human', value: 'q1' }, { from: 'gpt', value: 'a1' }, { from: 'human', value: 'q2\nextra' }, { from: 'gpt', value: 'a2' }] },
  openai: { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'q1' }] }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'q2\nextra' }, { role: 'assistant', content: 'a2' }] },
  alpaca: { system: 'be brief', history: [['q1', 'a1']], instruction: 'q2', input: 'extra', output: 'a2' },
  minimind: want,
};

test('ShareGPT, OpenAI messages and Alpaca with history convert to the same MiniMind conversation', () => {
  for (const [name, row] of Object.entries(forms)) assert.deepEqual(convertRecord(row, 'sft'), want, name);
  assert.deepEqual(convertRecord(forms.sharegpt, 'rlaif'), { conversations: [...want.conversations.slice(0, 4), { role: 'assistant', content: '无' }] });
  assert.deepEqual(convertRecord({ instruction: 'p', input: '', chosen: 'good', rejected: 'bad' }, 'dpo'), { chosen: [{ role: 'user', content: 'p' }, { role: 'assistant', content: 'good' }], rejected: [{ role: 'user', content: 'p' }, { role: 'assistant', content: 'bad' }] });
});

test('converted ShareGPT / OpenAI / Alpaca files train through sft with the tokens of the hand-written MiniMind file', async () => {
  const tok = new FakeTokenizer();
  const tokens = async (file: string) => {
    const ds = await openDataset({ kind: 'sft', files: [file], tokenizer: tok, tokenizerKey: 'fake', maxLength: 256, cacheDir: join(dir, 'cache') });
    return Array.from({ length: ds.samples.length }, (_, i) => ds.samples.get(i)).map((s) => [Array.from(s.ids), Array.from(s.mask!)]);
  };
  const hand = join(dir, 'hand.jsonl');
  writeFileSync(hand, JSON.stringify(want) + '\n');
  const expected = await tokens(hand);
  assert.ok(expected[0][1].some((m) => m === 1));
  for (const [name, row] of Object.entries(forms)) {
    const src = join(dir, `${name}.jsonl`);
    writeFileSync(src, JSON.stringify(row) + '\n');
    const out = join(dir, `${name}-sft.jsonl`);
    await convert({ inputs: [src], output: out, to: 'sft' });
    assert.deepEqual(await tokens(out), expected, name);
  }
});

test('rows that do not fit are skipped and counted by reason with file:line', async () => {
  const src = join(dir, 'mixed.jsonl');
  writeFileSync(src, [JSON.stringify({ text: 'plain' }), '{bad json', JSON.stringify({ conversations: [{ from: 'robot', value: 'x' }] }), JSON.stringify({ messages: [{ role: 'user', content: 'q' }] }), JSON.stringify(forms.openai)].join('\n') + '\n');
  const out = join(dir, 'mixed-sft.jsonl');
  const s = await convert({ inputs: [src], output: out, to: 'sft' });
  assert.equal(s.rows, 4);
  assert.equal(s.written, 1);
  const reasons = Object.fromEntries([...s.rejects.reasons].map(([k, r]) => [k, r.where]));
  assert.deepEqual(reasons['a text row has no conversation'], [`${src}:1`]);
  assert.match(Object.keys(reasons).find((k) => k.startsWith('invalid JSON'))!, /invalid JSON/);
  // reasons are keyed without their parenthesised detail (rejects.ts), which the first message keeps
  assert.deepEqual(reasons["'conversations[0].from' is 'robot'"], [`${src}:3`]);
  assert.equal(s.rejects.reasons.get("'conversations[0].from' is 'robot'")!.first, "'conversations[0].from' is 'robot' (expected human, gpt, system, observation or function_call)");
  assert.deepEqual(reasons['no final assistant answer'], [`${src}:4`]);
});

test('tool use: ShareGPT (tools, function_call, observation) and OpenAI (tools, tool_calls) train with the tokens of MiniMind\'s tool rows', { skip: !existsSync(SHARED) && 'needs ../shared/data' }, async () => {
  const { openTokenizer } = await import('../../src/corpus/tokenizer.js');
  const t = openTokenizer(join(SHARED, 'minimind-tokenizer/head'));
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const call = { name: 'get_weather', arguments: { city: 'Paris' } };
  // MiniMind's form (its README): tools as a JSON string on the system message, calls as a JSON string
  const hand = { conversations: [{ role: 'system', content: 'be brief', tools: JSON.stringify(tools) }, { role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', content: '', tool_calls: JSON.stringify([call]) }, { role: 'tool', content: '{"temp": 20}' }, { role: 'assistant', content: 'It is 20 degrees.' }] };
  const sharegpt = { system: 'be brief', tools: JSON.stringify(tools), conversations: [{ from: 'human', value: 'Weather in Paris?' }, { from: 'function_call', value: JSON.stringify(call) }, { from: 'observation', value: '{"temp": 20}' }, { from: 'gpt', value: 'It is 20 degrees.' }] };
  const openai = { tools, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', content: '{"temp": 20}' }, { role: 'assistant', content: 'It is 20 degrees.' }] };
  const tokens = async (name: string, row: unknown) => {
    const f = join(dir, `tools-${name}.jsonl`);
    writeFileSync(f, JSON.stringify(row) + '\n');
    const out = join(dir, `tools-${name}-sft.jsonl`);
    const s = await convert({ inputs: [f], output: out, to: 'sft' });
    assert.equal(s.written, 1, name);
    const ds = await openDataset({ kind: 'sft', files: [out], tokenizer: t.tok, tokenizerKey: t.fingerprint, maxLength: 1024, cacheDir: join(dir, `cache-${name}`) });
    const x = ds.samples.get(0);
    return [Array.from(x.ids), Array.from(x.mask!)];
  };
  const expected = await tokens('hand', hand);
  const text = t.tok.decode(expected[0]);
  assert.match(text, /<tools>\n\{"type": ?"function"/);
  assert.match(text, /<tool_call>\n\{"name": "get_weather", "arguments": \{"city": ?"Paris"\}\}\n<\/tool_call>/);
  // data stats / mix --tokens count a tool row as the sft stage tokenizes it
  const { tokensOf } = await import('../../src/corpus/tokenizer.js');
  assert.equal(tokensOf(t, hand), expected[0].length);
  assert.equal(tokensOf(t, openai), expected[0].length);
  assert.deepEqual(await tokens('sharegpt', sharegpt), expected, 'sharegpt');
  assert.deepEqual(await tokens('openai', openai), expected, 'openai');
  assert.throws(() => convertRecord({ conversations: [{ from: 'human', value: 'q' }, { from: 'function_call', value: 'get_weather(Paris)' }] }, 'sft'), /of a function_call is not JSON/);
});
