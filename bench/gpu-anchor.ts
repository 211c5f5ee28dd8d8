// Ours against PyTorch on one GPU, in the same run: for each workload `minimind bench ... --device cuda`
// (bf16: bf16 GEMM operands, fp32 master weights and AdamW, as autocast), then the PyTorch anchor
// (../shared/anchors/torch_minimind.py, bf16 autocast) eager and with --compile, each in its own
// process. Prints one JSON line per workload (tokens/s, peak GPU memory, MFU, ratios) and a table.
// MFU counts 6 * parameters * tokens/s (attention's FLOPs left out) against 989 TFLOP/s, the H200's
// dense bf16 datasheet rate.
//   node dist/bench/gpu-anchor.js [--steps 10] [--warmup 3] [--only <substring>] [--no-compile]
//        [--python python3] [--script .anchors/torch_minimind.py]
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const { values } = parseArgs({
  options: { steps: { type: 'string' }, warmup: { type: 'string' }, only: { type: 'string' }, 'no-compile': { type: 'boolean' }, python: { type: 'string' }, script: { type: 'string' } },
});
const steps = values.steps ?? '10', warmup = values.warmup ?? '3';
const python = values.python ?? 'python3';
const script = values.script ?? join('..', 'shared', 'anchors', 'torch_minimind.py');
const PEAK_TFLOPS = 989;

interface GpuWorkload { name: string; ours: string[]; torch: string[]; compile: boolean; decode?: boolean }
const s = ['--steps', steps, '--warmup', warmup];
const WORKLOADS: GpuWorkload[] = [
  { name: 'train v1-small bf16 64x512', ours: ['train', '--preset', 'v1-small', '--batch', '64', '--seq', '512', ...s], torch: ['--mode', 'train', '--batch', '64', '--seq', '512', ...s], compile: true },
  { name: 'train minimind-3 bf16 64x512', ours: ['train', '--preset', 'minimind-3', '--batch', '64', '--seq', '512', ...s], torch: ['--mode', 'train', '--batch', '64', '--seq', '512', '--d-model', '768', '--n-layers', '8', '--n-heads', '8', '--n-kv-heads', '4', ...s], compile: true },
  { name: 'train v1 (108M) bf16 64x512', ours: ['train', '--preset', 'v1', '--batch', '64', '--seq', '512', ...s], torch: ['--mode', 'train', '--batch', '64', '--seq', '512', '--d-model', '768', '--n-layers', '16', ...s], compile: true },
  { name: 'train v1-moe bf16 40x512', ours: ['train', '--preset', 'v1-moe', '--batch', '40', '--seq', '512', ...s], torch: ['--mode', 'train', '--batch', '40', '--seq', '512', '--moe', ...s], compile: false },
  { name: 'decode v1-small batch 1, 256 new tokens', ours: ['generate', '--preset', 'v1-small', '--seq', '256', '--steps', '3', '--warmup', '1'], torch: ['--mode', 'generate', '--gen-tokens', '256', '--steps', '3', '--warmup', '1'], compile: false, decode: true },
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
const mfu = (r: Record<string, unknown>): number | null => (num(r.tokens_per_second) && num(r.params) ? Math.round((6 * num(r.params)! * num(r.tokens_per_second)!) / (PEAK_TFLOPS * 1e10)) / 100 : null);

const table: string[] = [];
for (const w of WORKLOADS) {
  if (values.only && !w.name.includes(values.only)) continue;
  const dtype = w.decode ? [] : ['--dtype', 'bf16'];
  const ours = run(process.execPath, [join('dist', 'src', 'cli', 'main.js'), 'bench', ...w.ours, '--device', 'cuda', ...dtype, '--json']);
  const eager = run(python, [join('bench', 'torch_gpu_peak.py'), script, ...w.torch, '--device', 'cuda', '--dtype', w.decode ? 'fp32' : 'bf16']);
  const compiled = w.compile && !values['no-compile'] ? run(python, [join('bench', 'torch_gpu_peak.py'), script, ...w.torch, '--device', 'cuda', '--dtype', 'bf16', '--compile']) : null;
  const row = {
    bench: 'gpu-anchor', workload: w.name, date: new Date().toISOString(), gpu: ours.gpu ?? eager.gpu,
    ours: { tokens_per_second: ours.tokens_per_second, peak_gpu_memory_mb: ours.peak_gpu_memory_mb, mfu: w.decode ? null : mfu(ours), params: ours.params, error: ours.error },
    torch_eager: { tokens_per_second: eager.tokens_per_second, peak_gpu_memory_mb: eager.peak_gpu_memory_mb, mfu: w.decode ? null : mfu(eager), params: eager.params, error: eager.error },
    torch_compile: compiled && { tokens_per_second: compiled.tokens_per_second, peak_gpu_memory_mb: compiled.peak_gpu_memory_mb, mfu: mfu(compiled), error: compiled.error },
    vs_eager: ratio(ours.tokens_per_second, eager.tokens_per_second), vs_compile: compiled ? ratio(ours.tokens_per_second, compiled.tokens_per_second) : null,
    memory_vs_eager: ratio(ours.peak_gpu_memory_mb, eager.peak_gpu_memory_mb),
  };
  console.log(JSON.stringify(row));
  const f = (v: unknown): string => (num(v) === null ? '-' : Math.round(num(v)!).toLocaleString('en-US'));
  table.push(`| ${w.name} | ${f(ours.tokens_per_second)} | ${f(eager.tokens_per_second)} | ${compiled ? f(compiled.tokens_per_second) : '-'} | ${row.vs_eager ?? '-'} | ${row.vs_compile ?? '-'} | ${f(ours.peak_gpu_memory_mb)} / ${f(eager.peak_gpu_memory_mb)} | ${row.ours.mfu ?? '-'} / ${row.torch_eager.mfu ?? '-'} |`);
}
console.log('\n| workload | ours tok/s | torch eager | torch compile | vs eager | vs compile | peak MiB ours / eager | MFU ours / eager |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const l of table) console.log(l);
