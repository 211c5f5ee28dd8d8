// `minimind generate --json` and `minimind chat` over a pipe, on a tiny saved model folder with
// MiniMind2's tokenizer (../shared/data). Expected outputs come from the library: the CLI must
// build the same prompt (chat template, history, /reset) and print exactly what generate() gives.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { generate } from '../../src/model/generate.js';
import type { ChatMessage } from '../../src/tokenizer/chat.js';

const TOKENIZER = '../shared/data/minimind-tokenizer/minimind2';
const skip = existsSync(join(TOKENIZER, 'tokenizer.json')) ? false : `${TOKENIZER} not found (needs ../shared/data)`;
const cli = 'dist/src/cli/main.js';
// The library side runs on the js backend; so does the CLI here, so greedy ties break the same way.
const env = { ...process.env, MINIMIND_BACKEND: 'js' };

const dir = mkdtempSync(join(tmpdir(), 'mm-gen-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let model: MiniMindForCausalLM;
let tok: Tokenizer;
const folder = join(dir, 'tiny');

function setup(): void {
  if (model) return;
  model = new MiniMindForCausalLM(presetConfig('tiny', { max_position_embeddings: 256 }), { seed: 11 });
  saveModelFolder(folder, model, { tokenizerDir: TOKENIZER });
  tok = Tokenizer.load(TOKENIZER);
}

const greedy = { temperature: 0, stopTokenIds: [2] };

test('generate --json prints the new ids and their text, as the library generates them', { skip }, () => {
  setup();
  const r = spawnSync(process.execPath, [cli, 'generate', '--model', folder, '--prompt', 'Hello there', '--json', '--max-new-tokens', '7', '--temperature', '0'], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const ids = tok.encode(tok.applyChatTemplate([{ role: 'user', content: 'Hello there' }], { addGenerationPrompt: true }));
  const [want] = generate(model, ids, { ...greedy, maxNewTokens: 7, tokenizer: tok });
  assert.deepEqual(out.ids, want.ids);
  assert.equal(out.text, want.text);
  assert.equal(out.finish_reason, want.finishReason);
  if (want.finishReason === 'length') assert.equal(out.ids.length, 7);
});

test('generate --raw feeds BOS + prompt; streaming prints the same text', { skip }, () => {
  setup();
  const args = [cli, 'generate', '--model', folder, '--prompt', 'Once upon', '--raw', '--max-new-tokens', '6', '--temperature', '0'];
  const js = spawnSync(process.execPath, [...args, '--json'], { encoding: 'utf8', env });
  assert.equal(js.status, 0, js.stderr);
  const [want] = generate(model, [tok.bosTokenId!, ...tok.encode('Once upon')], { ...greedy, maxNewTokens: 6, tokenizer: tok });
  assert.deepEqual(JSON.parse(js.stdout).ids, want.ids);
  const streamed = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  assert.equal(streamed.status, 0, streamed.stderr);
  assert.equal(streamed.stdout, want.text + '\n');
});

test('generate rejects bad flags with one-line errors', { skip }, () => {
  setup();
  const bad = (args: string[], re: RegExp) => {
    const r = spawnSync(process.execPath, [cli, 'generate', ...args], { encoding: 'utf8', env });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
  };
  bad(['--prompt', 'x'], /--model is required/);
  bad(['--model', join(dir, 'nope'), '--prompt', 'x'], /model folder not found/);
  bad(['--model', folder, '--prompt', 'x', '--top-p', '2'], /--top-p must be in \(0, 1\]/);
  bad(['--model', folder, '--prompt', 'x', '--temperature', 'hot'], /--temperature must be a number/);
});

test('chat over a pipe: one answer per line, history kept, /reset clears it, EOF ends', { skip }, () => {
  setup();
  const lines = ['hi', 'what is two plus two', '/reset', 'hello again'];
  const r = spawnSync(process.execPath, [cli, 'chat', '--model', folder, '--max-new-tokens', '5', '--temperature', '0', '--stop', '\n'], { input: lines.join('\n') + '\n', encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  // The same conversation through the library.
  const expected: string[] = [];
  let history: ChatMessage[] = [];
  for (const line of lines) {
    if (line === '/reset') {
      history = [];
      continue;
    }
    history.push({ role: 'user', content: line });
    const ids = tok.encode(tok.applyChatTemplate(history, { addGenerationPrompt: true }));
    const [a] = generate(model, ids, { ...greedy, maxNewTokens: 5, tokenizer: tok, stopStrings: ['\n'] });
    expected.push(a.text!);
    history.push({ role: 'assistant', content: a.text!.trim() });
  }
  assert.equal(r.stdout, expected.map((t) => t + '\n').join(''));
  assert.match(r.stderr, /history cleared/);
  // /exit stops before later lines.
  const e = spawnSync(process.execPath, [cli, 'chat', '--model', folder, '--max-new-tokens', '3', '--temperature', '0', '--stop', '\n'], { input: 'hi\n/exit\nmore\n', encoding: 'utf8', env });
  assert.equal(e.status, 0, e.stderr);
  const hi = tok.encode(tok.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }));
  const [one] = generate(model, hi, { ...greedy, maxNewTokens: 3, tokenizer: tok, stopStrings: ['\n'] });
  assert.equal(e.stdout, one.text + '\n', 'exactly one answer before /exit');
});

test('chat drops the oldest turns when the history outgrows the context, and survives a too-long message', { skip }, () => {
  setup();
  const small = join(dir, 'small-context');
  saveModelFolder(small, new MiniMindForCausalLM(presetConfig('tiny', { max_position_embeddings: 40 }), { seed: 5 }), { tokenizerDir: TOKENIZER });
  const lines = [...Array(5).fill('tell me about the sea'), 'word '.repeat(60).trim(), 'and the sky'];
  const r = spawnSync(process.execPath, [cli, 'chat', '--model', small, '--max-new-tokens', '5', '--temperature', '0', '--stop', '\n'], { input: lines.join('\n') + '\n', encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.split('\n').length - 1, lines.length, 'one output line per input line');
  assert.match(r.stderr, /message too long: \d+ tokens with the template, the model's context is 40/);
});
