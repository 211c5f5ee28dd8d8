// The in-tab quickstart beside Node's, in one run: prints one JSON line per row.
//   node dist/bench/web-quickstart.js [--webgpu-seconds 150]
// Rows: the page (/app/, served from 127.0.0.1, headless Chromium) on the js fallback to the end;
// the page on SwiftShader WebGPU for a fixed window (it is far too slow to finish); Node's
// quickstart({ small: true }) on the js backend and on the native CPU backend. Training tokens/s:
// the tokens of every step from the first step's report to the last one's.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../src/serve/load.js';
import { quickstart } from '../src/train/quickstart.js';
import { setBackend, getBackend, useDevice } from '../src/core/device.js';
import { jsBackend } from '../src/backends/js/index.js';
import { makeServedModel } from '../test/serve/fixture.js';

interface Step { tokens: number; at: number }
const perSecond = (steps: Step[]): number => steps.slice(1).reduce((a, s) => a + s.tokens, 0) / ((steps[steps.length - 1].at - steps[0].at) / 1000);
const arg = process.argv.indexOf('--webgpu-seconds');
const webgpuSeconds = arg > 0 ? Number(process.argv[arg + 1]) : 150;
const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!chromiumPath) throw new Error('no chromium binary (apt-get install -y chromium)');

const fx = makeServedModel({});
const server = await serve({ model: fx.folder, port: 0 });
const { chromium } = await import('playwright-core');
type PageState = { backend: string; losses: Step[]; trained: string | null; errors: string[] };
const state = (): PageState => (window as unknown as { minimindPage: PageState }).minimindPage;

for (const webgpu of [false, true]) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', webgpu ? '--enable-unsafe-webgpu' : '--disable-webgpu'] });
  const page = await browser.newPage();
  await page.goto(`${server.url}/app/`);
  await page.waitForFunction(() => !!(window as unknown as { minimindPage?: PageState }).minimindPage?.backend, null, { timeout: 120_000 });
  await page.click('#tab-train');
  const t0 = Date.now();
  await page.click('#start');
  if (webgpu) {
    await page.waitForFunction(() => (window as unknown as { minimindPage: PageState }).minimindPage.losses.length >= 2, null, { timeout: 600_000 });
    await page.waitForTimeout(webgpuSeconds * 1000);
  } else {
    await page.waitForFunction(() => {
      const s = (window as unknown as { minimindPage: PageState }).minimindPage;
      return !!s.trained || s.errors.length > 0;
    }, null, { timeout: 1_800_000 });
  }
  const st = await page.evaluate(state);
  console.log(JSON.stringify({ where: 'tab', backend: st.backend, finished: !!st.trained, wall_s: webgpu ? null : (Date.now() - t0) / 1000, steps: st.losses.length, train_tokens_per_s: perSecond(st.losses), errors: st.errors }));
  await browser.close();
}
await server.close();
fx.cleanup();

for (const device of ['js', 'cpu']) {
  const out = mkdtempSync(join(tmpdir(), 'mm-bench-web-'));
  if (device === 'js') setBackend(jsBackend);
  else useDevice('cpu');
  const steps: Step[] = [];
  const t0 = Date.now();
  await quickstart({ out, small: true, overwrite: true, onProgress: (r) => steps.push({ tokens: r.tokens, at: performance.now() }) });
  console.log(JSON.stringify({ where: 'node', backend: getBackend().name, finished: true, wall_s: (Date.now() - t0) / 1000, steps: steps.length, train_tokens_per_s: perSecond(steps) }));
  rmSync(out, { recursive: true, force: true });
}
