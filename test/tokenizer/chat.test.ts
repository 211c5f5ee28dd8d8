// Chat templates rendered exactly as transformers' apply_chat_template(tokenize=False) renders them
// (fixtures from tools/tokenizer-fixtures.py): MiniMind v1, minimind2 (tools, enable_thinking) and
// minimind-3 (tools, tool calls, reasoning_content, open_thinking).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CHAT_TEMPLATES, Tokenizer, type ChatMessage } from '../../src/tokenizer/index.js';
import { noShared, TOKENIZERS } from './helpers.js';

interface Fixture {
  tokenizer: 'v1' | 'minimind2' | 'head';
  case: string;
  messages: ChatMessage[];
  options: { add_generation_prompt?: boolean; tools?: unknown[]; open_thinking?: boolean; enable_thinking?: boolean };
  expected: string;
}
const fixtures: Fixture[] = JSON.parse(readFileSync('test/tokenizer/fixtures/chat-templates.json', 'utf8'));

test('CHAT_TEMPLATES are the strings of MiniMind\'s tokenizer_config.json files', { skip: noShared }, () => {
  const read = (v: string) => JSON.parse(readFileSync(`${TOKENIZERS}/${v}/tokenizer_config.json`, 'utf8')).chat_template;
  assert.equal(CHAT_TEMPLATES.v1, read('v1'));
  assert.equal(CHAT_TEMPLATES.minimind2, read('minimind2'));
  assert.equal(CHAT_TEMPLATES.minimind3, read('head'));
});

test('renderings match transformers', { skip: noShared }, async (t) => {
  assert.ok(fixtures.length >= 30);
  const toks = new Map<string, Tokenizer>();
  for (const f of fixtures) {
    await t.test(`${f.tokenizer}: ${f.case}`, () => {
      if (!toks.has(f.tokenizer)) toks.set(f.tokenizer, Tokenizer.load(`${TOKENIZERS}/${f.tokenizer}`));
      const o = f.options;
      const got = toks.get(f.tokenizer)!.applyChatTemplate(f.messages, {
        addGenerationPrompt: o.add_generation_prompt, tools: o.tools, openThinking: o.open_thinking, enableThinking: o.enable_thinking,
      });
      assert.equal(got, f.expected);
    });
  }
});

test('spec examples: v1 and minimind-3 tool call', { skip: noShared }, () => {
  const v1 = Tokenizer.load(`${TOKENIZERS}/v1`);
  const msgs: ChatMessage[] = [
    { role: 'system', content: 'SYS' }, { role: 'user', content: '你好' }, { role: 'assistant', content: '你好！' }, { role: 'user', content: '再见' },
  ];
  assert.equal(v1.applyChatTemplate(msgs), 'SYS<s>user\n你好</s>\n<s>assistant\n你好！</s>\n<s>user\n再见</s>\n<s>assistant\n');
  const head = Tokenizer.load(`${TOKENIZERS}/head`);
  const out = head.applyChatTemplate([
    { role: 'user', content: 'q' },
    { role: 'assistant', content: '', tool_calls: [{ name: 'f', arguments: { x: 1 } }] },
    { role: 'tool', content: '{"r":1}' },
    { role: 'assistant', content: 'done' },
  ]);
  assert.ok(out.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{"r":1}\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\ndone<|im_end|>\n'), out);
});
