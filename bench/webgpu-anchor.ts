// The WebGPU backend against PyTorch eager fp32 on the same GPU, in the same run: for each workload
// `minimind bench ... --device webgpu` (fp32: WGSL kernels through Dawn, on Vulkan/Metal/D3D12),
// our CUDA backend at fp32 where its addon is built, then the PyTorch anchor
// (../shared/anchors/torch_minimind.py, fp32, TF32 off as PyTorch's default), each in its own
// process. Prints one JSON line per workload and a table. On a machine without CUDA (lavapipe in
// CI's image, a Mac) run it with --no-torch and small shapes: `--preset tiny --batch 4 --seq 64`.
//   node dist/bench/webgpu-anchor.js [--steps 5] [--warmup 2] [--only <substring>] [--no-torch]
//        [--preset P --batch B --seq T --gen-tokens N] [--python python3] [--script ../shared/anchors/torch_minimind.py]
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' }, warmup: { type: 'string' }, only: { type: 'string' }, 'no-torch': { type: 'boolean' }, python: { type: 'string' }, script: { type: 'string' },
    preset: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' }, 'gen-tokens': { type: 'string' },
  },
});
const steps = values.steps ?? '5', warmup = values.warmup ?? '2';
const python = values.python ?? 'python3';
const script = values.script ?? join('..', 'shared', 'anchors', 'torch_minimind.py');
const batch = values.batch ?? '64', seq = values.seq ?? '512', gen = values['gen-tokens'] ?? '256';

interface Workload { name: string; ours: string[]; torch: string[] | null }
const s = ['--steps', steps, '--warmup', warmup];
const torchShape: Record<string, string[]> = { 'v1-small': [], 'minimind-3': ['--d-model', '768', '--n-layers', '8', '--n-heads', '8', '--n-kv-heads', '4'] };
const presets = values.preset ? [values.preset] : ['v1-small', 'minimind-3'];
const WORKLOADS: Workload[] = [
  ...presets.map((p) => ({
    name: `train ${p} fp32 ${batch}x${seq}`,
    ours: ['train', '--preset', p, '--batch', batch, '--seq', seq, ...s],
    torch: torchShape[p] ? ['--mode', 'train', '--batch', batch, '--seq', seq, ...torchShape[p], ...s] : null,
  })),
  {
    name: `decode ${presets[0]} batch 1, ${gen} new tokens`,
    ours: ['generate', '--preset', presets[0], '--seq', gen, '--steps', '3', '--warmup', '1'],
    torch: torchShape[presets[0]] ? ['--mode', 'generate', '--gen-tokens', gen, ...torchShape[presets[0]], '--steps', '3', '--warmup', '1'] : null,
  },
];

function jsonLines(out: string): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const l of out.split('\n')) {
    if (!l.startsWith('{')) continue;
    try { Object.assign(merged, JSON.parse(l)); } catch { /* not ours */ }
  }
  return merged;
}
function run(cmd: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  const j = jsonLines(r.stdout ?? '');
  if (j.tokens_per_second === undefined) j.error = ((r.stderr || r.stdout || String(r.error)) ?? '').trim().split('\n').slice(-3).join(' | ');
  return j;
}
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const ratio = (a: unknown, b: unknown): number | null => (num(a) !== null && num(b) ? Math.round((num(a)! / num(b)!) * 100) / 100 : null);
const cudaBuilt = existsSync(join('build-cuda', 'minimind_cuda.node'));
const pick = (r: Record<string, unknown>) => ({ tokens_per_second: r.tokens_per_second, ms_per_step: r.ms_per_step, loss_first: r.loss_first, loss_last: r.loss_last, error: r.error });

const table: string[] = [];
for (const w of WORKLOADS) {
  if (values.only && !w.name.includes(values.only)) continue;
  const cli = [join('dist', 'src', 'cli', 'main.js'), 'bench', ...w.ours, '--dtype', 'fp32', '--json'];
  const webgpu = run(process.execPath, [...cli, '--device', 'webgpu']);
  const cuda = cudaBuilt ? run(process.execPath, [...cli, '--device', 'cuda']) : null;
  const torch = w.torch && !values['no-torch'] ? run(python, [join('bench', 'torch_gpu_peak.py'), script, ...w.torch, '--device', 'cuda', '--dtype', 'fp32']) : null;
  const row = {
    bench: 'webgpu-anchor', workload: w.name, date: new Date().toISOString(), adapter: webgpu.gpu, params: webgpu.params,
    webgpu: pick(webgpu), cuda_fp32: cuda && pick(cuda), torch_eager_fp32: torch && pick(torch),
    webgpu_vs_torch: torch ? ratio(webgpu.tokens_per_second, torch.tokens_per_second) : null,
    webgpu_vs_cuda: cuda ? ratio(webgpu.tokens_per_second, cuda.tokens_per_second) : null,
  };
  console.log(JSON.stringify(row));
  const f = (v: unknown): string => (num(v) === null ? '-' : Math.round(num(v)!).toLocaleString('en-US'));
  table.push(`| ${w.name} | ${f(webgpu.tokens_per_second)} | ${torch ? f(torch.tokens_per_second) : '-'} | ${row.webgpu_vs_torch ?? '-'} | ${cuda ? f(cuda.tokens_per_second) : '-'} |`);
}
console.log('\n| workload | webgpu tok/s | torch eager fp32 | webgpu / torch | our cuda fp32 |');
console.log('| --- | --- | --- | --- | --- |');
for (const l of table) console.log(l);
