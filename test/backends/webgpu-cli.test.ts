// --device webgpu from the command line: `bench train` on the WebGPU backend prints its JSON with
// the adapter; a machine without an adapter (here: a Vulkan loader pointed at no driver) gets one
// `minimind:` line and exit code 2, none of Dawn's own warnings; --device auto's choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { webgpuSkip as skip } from './webgpu-helpers.js';
import { probeAdapter } from '../../src/backends/webgpu/adapter.js';
import { loadCpuBackend } from '../../src/backends/cpu/index.js';

const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const mm = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });

test('webgpu cli: bench train --device webgpu trains a tiny model on the adapter', { skip }, () => {
  const r = mm(['bench', 'train', '--device', 'webgpu', '--preset', 'tiny', '--batch', '2', '--seq', '16', '--steps', '2', '--warmup', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(res.backend, 'webgpu');
  assert.ok(typeof res.gpu === 'string' && res.gpu.length > 0, 'names the adapter');
  assert.ok(res.loss_first > 8 && res.loss_first < 9.5, `a fresh 6400-token model's loss is near ln(6400) = 8.76, got ${res.loss_first}`);
  assert.ok(res.tokens_per_second > 0);
});

test('webgpu cli: --device webgpu without an adapter is one minimind: line, exit 2', { skip: process.platform !== 'linux' ? 'the no-adapter case is staged through the Vulkan loader (Linux)' : false }, () => {
  for (const args of [['bench', 'train', '--device', 'webgpu', '--preset', 'tiny'], ['generate', '--model', 'nowhere', '--prompt', 'hi', '--device', 'webgpu']]) {
    const r = mm(args, { VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^minimind: (bench: )?--device webgpu: .*; use --device cpu\n$/, `${args.join(' ')}: one line, got ${JSON.stringify(r.stderr)}`);
  }
});

test('webgpu: --device auto takes WebGPU only on a hardware adapter (a software one, as CI\'s lavapipe, leaves the CPU) and says which GPU it took', { skip }, () => {
  const probe = probeAdapter();
  assert.ok('description' in probe, `the adapter probe answers: ${JSON.stringify(probe)}`);
  const code = `import('${join(process.cwd(), 'dist', 'src', 'core', 'device.js')}').then((m) => console.log(m.useDevice('auto').name))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, MINIMIND_CUDA_ADDON: '/nonexistent/minimind_cuda.node' }, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('minimind:'));
  if (probe.software) {
    assert.equal(r.stdout.trim(), loadCpuBackend() ? 'cpu' : 'js', 'a software adapter is not chosen');
    assert.deepEqual(lines, [], 'the CPU is the quiet default');
  } else {
    assert.equal(r.stdout.trim(), 'webgpu');
    assert.deepEqual(lines, [`minimind: --device auto: webgpu (${probe.description})`]);
  }
});
