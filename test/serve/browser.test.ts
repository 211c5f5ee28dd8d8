// The web chat page in a real browser: Debian's chromium driven by playwright-core. It opens the
// page on a phone-sized screen, sends a message and watches the answer stream in (the text must be
// the library's greedy answer), regenerates, and checks that model output containing HTML and
// script is shown as text — in the answer and in the folded reasoning — and that tool calls show.
// Without a chromium binary the tests are skipped with a message (CI installs it: .ci/run).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../../src/serve/load.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { serveContext } from '../../src/serve/load.js';
import { generateBatch } from '../../src/model/batch-generate.js';
import { makeServedModel, type ServedFixture } from './fixture.js';
import { ScriptedEngine } from './scripted-engine.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const skip = CHROMIUM ? false : 'no chromium binary (apt-get install -y chromium, or set CHROMIUM_PATH); browser tests not run';

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;
let browser: Browser;
let fx: ServedFixture;
let real: RunningServer;
let scripted: RunningServer;
let engine: ScriptedEngine;

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  fx = makeServedModel({ maxPositions: 1024 });
  real = await serve({ model: fx.folder, port: 0 });
  engine = new ScriptedEngine(fx.tokenizer, '');
  scripted = await startServer(serveContext(fx.model, fx.tokenizer, {}, engine, 'tiny-chat'), { port: 0 });
});
after(async () => {
  if (skip) return;
  await browser?.close();
  await real?.close();
  await scripted?.close();
  fx?.cleanup();
});

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 740 }, isMobile: true, hasTouch: true });
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(url)) external.push(r.url());
  });
  await page.goto(url + '/');
  (page as Page & { external: string[] }).external = external;
  return page;
}

async function settings(page: Page, values: Record<string, string>, thinking = false): Promise<void> {
  await page.click('#toggle-settings');
  for (const [id, v] of Object.entries(values)) await page.fill(`#${id}`, v);
  await page.setChecked('#thinking', thinking);
  await page.click('#toggle-settings');
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  // The answer is complete when its meta line (finish reason, tokens) appears.
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant').length > 0 && !!document.querySelector('.msg.assistant:last-of-type .meta'), null, { timeout: 20000 });
}

test('the page streams the model\'s answer, regenerates, and fits a phone screen', { skip }, async () => {
  const page = await openPage(real.url);
  await settings(page, { temperature: '0', 'max-tokens': '24' });
  await send(page, 'What is the capital of France?');
  const t = fx.tokenizer;
  const prompt = t.encode(t.applyChatTemplate([{ role: 'user', content: 'What is the capital of France?' }], { addGenerationPrompt: true }));
  const [want] = generateBatch(fx.model, [prompt], { maxNewTokens: 24, temperature: 0, stopTokenIds: [2], tokenizer: t });
  const shown = await page.textContent('.msg.assistant .text');
  assert.equal(shown, want.text!.replace(/^\n+/, ''));
  assert.ok(shown!.length > 0);
  assert.equal(await page.textContent('.msg.user .text'), 'What is the capital of France?');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scrolling at 390 px');
  await page.click('#regenerate');
  await page.waitForFunction(() => !!document.querySelector('.msg.assistant .meta'));
  assert.equal(await page.locator('.msg.assistant').count(), 1, 'regenerate replaces the last answer');
  assert.equal(await page.textContent('.msg.assistant .text'), shown, 'greedy: the same answer again');
  await page.click('#new');
  assert.equal(await page.locator('.msg').count(), 0);
  assert.deepEqual((page as Page & { external: string[] }).external, [], 'nothing loaded from outside the server');
  await page.close();
});

// How many pieces the browser reads depends on how fast the model decodes (a fast one can fill a
// network read with the whole answer), so the piece-by-piece check uses the scripted engine with a
// pause between tokens: every token is its own network write, 30 ms apart.
test('the page shows a streamed answer piece by piece as it arrives', { skip }, async () => {
  engine.script = 'One, two, three, four, five, six, seven, eight, nine, ten.';
  engine.delayMs = 30;
  try {
    const page = await openPage(scripted.url);
    await page.evaluate(() => {
      const w = window as unknown as { updates: number };
      w.updates = 0;
      new MutationObserver(() => w.updates++).observe(document.getElementById('log')!, { subtree: true, characterData: true, childList: true });
    });
    await send(page, 'Count to ten.');
    assert.equal(await page.textContent('.msg.assistant .text'), engine.script);
    assert.ok(await page.evaluate(() => (window as unknown as { updates: number }).updates) > 5, 'the answer arrived in pieces');
    await page.close();
  } finally {
    engine.delayMs = 0;
  }
});

test('model output with HTML and script is shown as text; reasoning is folded; tool calls are shown', { skip }, async () => {
  const page = await openPage(scripted.url);
  engine.script = 'I think <i>hard</i> & <b>long</b>.\n</think>\n\n<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
  await settings(page, {}, true);
  await send(page, 'Say something dangerous');
  assert.equal(await page.textContent('.msg.assistant > .text'), '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">');
  assert.equal(await page.textContent('.msg.assistant details .text'), 'I think <i>hard</i> & <b>long</b>.');
  assert.equal(await page.evaluate(() => (document.querySelector('.msg.assistant details') as HTMLDetailsElement).open), false, 'reasoning starts folded');
  assert.equal(await page.locator('#log script, #log img, #log i, #log b').count(), 0, 'no element was made from model text');
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);

  engine.script = 'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "<b>Paris</b>"}}\n</tool_call>';
  await settings(page, { tools: JSON.stringify([{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]) });
  await send(page, 'Weather?');
  const tool = await page.textContent('.msg.assistant:last-of-type .tool');
  assert.match(tool!, /^Tool call: get_weather\n/);
  assert.deepEqual(JSON.parse(tool!.slice(tool!.indexOf('\n') + 1)), { city: '<b>Paris</b>' });
  assert.match((await page.textContent('.msg.assistant:last-of-type .meta'))!, /finish: tool_calls/);

  // Stop: a slow answer is cut where it is, and the request is aborted.
  engine.script = 'word '.repeat(200);
  engine.delayMs = 15;
  await settings(page, { tools: '' });
  await page.fill('#input', 'Talk slowly');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => (document.querySelector('.msg.assistant:last-of-type > .text')?.textContent ?? '').length > 10);
  await page.click('#stop');
  await page.waitForFunction(() => !!document.querySelector('.msg.assistant:last-of-type .meta'));
  engine.delayMs = 0;
  assert.match((await page.textContent('.msg.assistant:last-of-type .meta'))!, /finish: stopped/);
  assert.ok((await page.textContent('.msg.assistant:last-of-type > .text'))!.length < 'word '.repeat(200).length);
  assert.equal(await page.isHidden('#stop'), true);
  await page.close();
});

test('default settings fit the model: its run name and trained context, its own sampling, no refused request', { skip }, async () => {
  // A run's model folder trained at 64 tokens, evaluated greedy with 10 new tokens (generation_config).
  const runModel = join(fx.dir, 'quick-run', 'model');
  cpSync(fx.folder, runModel, { recursive: true });
  writeFileSync(join(fx.dir, 'quick-run', 'metrics.jsonl'), '{"step": 1, "loss": 3}\n');
  const gcPath = join(runModel, 'generation_config.json');
  writeFileSync(gcPath, JSON.stringify({ ...JSON.parse(readFileSync(gcPath, 'utf8')), max_length: 64, do_sample: false, max_new_tokens: 10 }));
  const srv = await serve({ model: runModel, port: 0 });
  const page = await openPage(srv.url);
  try {
    // An earlier session kept "Max tokens 512": more than this model's whole context.
    await page.evaluate(() => localStorage.setItem('minimind.max-tokens', '512'));
    await page.reload();
    const statuses: number[] = [];
    page.on('response', (r) => statuses.push(r.status()));
    await page.waitForFunction(() => document.getElementById('title')!.textContent!.includes('quick-run'));
    assert.equal(await page.inputValue('#max-tokens'), '', 'the kept value that cannot fit is dropped');
    assert.match((await page.getAttribute('#max-tokens', 'placeholder'))!, /context 64/);
    await send(page, 'What is the capital of France?');
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `responses: ${statuses.join(', ')}`);
    const t = fx.tokenizer;
    const prompt = t.encode(t.applyChatTemplate([{ role: 'user', content: 'What is the capital of France?' }], { addGenerationPrompt: true }));
    const [want] = generateBatch(fx.model, [prompt], { maxNewTokens: 10, temperature: 0, stopTokenIds: [2], tokenizer: t });
    assert.equal(await page.textContent('.msg.assistant .text'), want.text!.replace(/^\n+/, ''), 'greedy, 10 tokens: the model\'s generation_config');
  } finally {
    await page.close();
    await srv.close();
  }
});
