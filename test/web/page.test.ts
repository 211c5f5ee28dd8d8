// The in-browser page (/app, src/web) in a real browser: Debian's chromium driven by playwright-core,
// on a phone-sized screen, served by `minimind serve` from 127.0.0.1 (a secure context, so the tab
// has navigator.gpu where WebGPU is on). Checked against the Node library on the same inputs:
//   - Run here: the tab's greedy ids for a model folder it never saw equal the Node library's;
//   - Train here: the tab's first 20 quickstart losses (seed 42) equal the Node js backend's;
//   - the model trained in the tab, downloaded as a zip, loads in Node and gives the tab's ids;
//   - every request stays on 127.0.0.1 (playwright intercepts them all; anything else is aborted
//     and fails the test);
// Run here once with WebGPU available (--enable-unsafe-webgpu: SwiftShader; the page computes on
// it) and once without (--disable-webgpu: the js fallback); Train here on the js fallback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { serve } from '../../src/serve/load.js';
import type { RunningServer } from '../../src/serve/server.js';
import { setBackend, getBackend } from '../../src/core/device.js';
import { jsBackend } from '../../src/backends/js/index.js';
import { generate } from '../../src/model/generate.js';
import { loadInferenceFolder } from '../../src/formats/inference-folder.js';
import { quickstart } from '../../src/train/quickstart.js';
import { makeServedModel, type ServedFixture } from '../serve/fixture.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const APP = new URL('../../web/app/index.html', import.meta.url).pathname;
const skip = !CHROMIUM ? 'no chromium binary (apt-get install -y chromium, or set CHROMIUM_PATH); browser tests not run' : !existsSync(APP) ? `the page is not built (${APP}); run npm run build:web` : false;

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;
interface PageState { backend: string; model: { label: string } | null; lastIds: number[]; losses: { stage: string; step: number; loss: number; tokens: number }[]; trained: string | null; errors: string[] }

let fx: ServedFixture;
let server: RunningServer;
let tmp: string;
const PROMPT = 'What is the capital of France?';
/** |tab loss - Node js loss| allowed over the first 20 steps: the same code in two V8s (observed: 0). */
const BOUND = 1e-6;

before(async () => {
  if (skip) return;
  fx = makeServedModel({ maxPositions: 256 });
  server = await serve({ model: fx.folder, port: 0 });
  tmp = mkdtempSync(join(tmpdir(), 'mm-web-'));
});
after(async () => {
  await server?.close();
  fx?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Node's greedy answer ids on the js backend, as the tab computes them. */
function nodeGreedyIds(folder: string, prompt: string, maxNewTokens: number): number[] {
  const prev = getBackend();
  setBackend(jsBackend);
  try {
    const f = loadInferenceFolder(folder);
    f.model.eval();
    const ids = f.tokenizer.encode(f.tokenizer.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true }));
    return generate(f.model, ids, { maxNewTokens, temperature: 0, stopTokenIds: f.stopTokenIds })[0].ids;
  } finally {
    setBackend(prev);
  }
}

/** The first 20 quickstart losses in Node, js backend, seed 42, small (as the page's "small"). */
async function nodeQuickstartLosses(): Promise<number[]> {
  const prev = getBackend();
  setBackend(jsBackend);
  const losses: number[] = [];
  const stop = new AbortController();
  try {
    await quickstart({ out: join(tmp, 'node-qs'), seed: 42, small: true, signal: stop.signal, onProgress: (r) => { if (r.stage === 'pretrain' && losses.length < 20) losses.push(r.loss); if (losses.length >= 20) stop.abort(); } });
  } finally {
    setBackend(prev);
  }
  return losses;
}

async function withBrowser(webgpu: boolean, fn: (page: Page, external: string[]) => Promise<void>): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...(webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-webgpu'])] });
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 740 }, isMobile: true, hasTouch: true, acceptDownloads: true });
    const external: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:') return route.continue();
      external.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => external.push(`page error: ${e.message}`));
    await page.goto(`${server.url}/app/`);
    await page.waitForFunction(() => !!(window as unknown as { minimindPage?: PageState }).minimindPage?.backend, null, { timeout: 90_000 });
    // WebGPU where the tab has it (SwiftShader here), else the js fallback
    assert.match((await state(page)).backend, webgpu ? /^webgpu \(/ : /^js \(/);
    await fn(page, external);
    assert.deepEqual(external, [], 'requests that left 127.0.0.1 (or page errors)');
  } finally {
    await browser.close();
  }
}

const state = (page: Page): Promise<PageState> => page.evaluate(() => (window as unknown as { minimindPage: PageState }).minimindPage);

async function chatGreedy(page: Page, prompt: string, maxNewTokens: number): Promise<number[]> {
  await page.click('summary');
  await page.fill('#temperature', '0');
  await page.fill('#max-new-tokens', String(maxNewTokens));
  await page.click('summary');
  await page.click('#clear');
  await page.evaluate(() => ((window as unknown as { minimindPage: PageState }).minimindPage.lastIds = []));
  await page.fill('#prompt', prompt);
  await page.press('#prompt', 'Enter');
  await page.waitForFunction(() => {
    const s = (window as unknown as { minimindPage: PageState }).minimindPage;
    return s.lastIds.length > 0 || s.errors.length > 0;
  }, null, { timeout: 60_000 });
  const s = await state(page);
  assert.deepEqual(s.errors, []);
  return s.lastIds;
}

for (const webgpu of [true, false]) {
  const label = webgpu ? 'WebGPU available (SwiftShader)' : 'WebGPU unavailable';
  test(`Run here, ${label}: the tab's greedy ids for a served model folder equal the Node library's; answers are text`, { skip }, async () => {
    await withBrowser(webgpu, async (page) => {
      await page.click('#load-server');
      await page.waitForFunction(() => !!(window as unknown as { minimindPage: PageState }).minimindPage.model, null, { timeout: 30_000 });
      const ids = await chatGreedy(page, PROMPT, 16);
      assert.deepEqual(ids, nodeGreedyIds(fx.folder, PROMPT, 16));
      const shown = await page.locator('.msg.assistant').last().textContent();
      assert.equal(shown, fx.tokenizer.decode(ids, { skipSpecialTokens: true })); // the streamed text is the decoded answer
      assert.equal(await page.locator('.msg.assistant script, .msg.assistant img').count(), 0);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone screen`);
    });
  });
}

// Training runs on the js fallback: SwiftShader computes each step on the CPU through Vulkan
// emulation, many times slower than js on this machine (docs/performance.md), too slow for CI.
test('Train here, WebGPU unavailable: the first 20 losses equal Node\'s js backend; the downloaded model loads in Node and gives the tab\'s ids', { skip }, async () => {
  const expected = await nodeQuickstartLosses();
  assert.equal(expected.length, 20);
  await withBrowser(false, async (page) => {
    await page.click('#tab-train');
    await page.selectOption('#size', 'small');
    await page.fill('#train-seed', '42');
    await page.click('#start');
    await page.waitForFunction(() => (window as unknown as { minimindPage: PageState }).minimindPage.losses.length >= 20, null, { timeout: 240_000 });
    await page.click('#stop-train');
    await page.waitForFunction(() => {
      const s = (window as unknown as { minimindPage: PageState }).minimindPage;
      return !!s.trained || s.errors.length > 0;
    }, null, { timeout: 120_000 });
    const s = await state(page);
    assert.deepEqual(s.errors, []);
    const got = s.losses.slice(0, 20);
    assert.ok(got.every((l) => l.stage === 'pretrain'));
    const diffs = got.map((l, i) => Math.abs(l.loss - expected[i]));
    // the same code and float32 arithmetic in both V8s
    diffs.forEach((d, i) => assert.ok(d <= BOUND, `step ${i + 1}: tab ${got[i].loss}, Node ${expected[i]} (|diff| ${d} > ${BOUND})`));
    console.log(`# first 20 losses: max |tab - node| = ${Math.max(...diffs)}`);

    // chat with the model in the tab (it was loaded when training stopped), then download it
    await page.click('#chat-trained');
    await page.waitForFunction(() => (window as unknown as { minimindPage: PageState }).minimindPage.model?.label.startsWith('quickstart'), null, { timeout: 30_000 });
    const ids = await chatGreedy(page, 'What is the capital of France?', 12);
    await page.click('#tab-train');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-trained')]);
    const zip = unzipSync(new Uint8Array(readFileSync(await download.path())));
    const folder = join(tmp, 'downloaded');
    mkdirSync(folder, { recursive: true });
    for (const [name, data] of Object.entries(zip)) if (!name.endsWith('/')) writeFileSync(join(folder, name.split('/').pop()!), data);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(existsSync(join(folder, f)), `the zip has ${f}`);
    assert.deepEqual(nodeGreedyIds(folder, 'What is the capital of France?', 12), ids);
  });
});
