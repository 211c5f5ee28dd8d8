// Data parallelism on a multi-GPU machine, in one run (scripts/device-dist-test.sh calls it):
//   equiv   2 GPUs (NCCL) vs 1 GPU, same global batch: per-step losses within bf16 tolerance
//   resume  2 GPUs stopped midway, resumed on 1 GPU: ends as the uninterrupted 1-GPU run
//   kill    a rank SIGKILLed mid-run: the launcher stops the job within seconds, naming it
//   speed   tokens/s of `minimind launch ... pretrain --preset v1` (108M) at 64x512 per GPU on
//           1 and 2 GPUs, beside PyTorch DDP (bench/ddp_torch.py) on the same GPUs
// Prints one JSON line per check and a table; exits 1 when a check fails.
//   node dist/bench/dist-gpu.js [--only equiv,resume,kill,speed] [--gpus 2] [--steps 12]
//        [--tokenizer .anchors/tok] [--text .anchors/pretrain_wiki_demo.jsonl] [--python python3]
//        [--script .anchors/torch_minimind.py] [--tol 0.01]
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const { values } = parseArgs({
  options: {
    only: { type: 'string' }, gpus: { type: 'string' }, steps: { type: 'string' }, tokenizer: { type: 'string' }, text: { type: 'string' },
    python: { type: 'string' }, script: { type: 'string' }, tol: { type: 'string' }, work: { type: 'string' },
    // a dry run of this script without GPUs: --device cpu --small-preset tiny-3 --small-seq 32 --only equiv,resume,kill
    device: { type: 'string' }, 'small-preset': { type: 'string' }, 'small-seq': { type: 'string' },
    // the speed workload (default: v1, 64 x 512 per GPU; torch shape flags must match the preset)
    'speed-preset': { type: 'string' }, 'speed-batch': { type: 'string' }, 'speed-seq': { type: 'string' }, 'torch-shape': { type: 'string' },
  },
});
const only = new Set((values.only ?? 'equiv,resume,kill,speed').split(','));
const GPUS = Number(values.gpus ?? 2);
const STEPS = Number(values.steps ?? 12);
const TOL = Number(values.tol ?? 0.01);
const python = values.python ?? 'python3';
const script = values.script ?? '.anchors/torch_minimind.py';
const cli = 'dist/src/cli/main.js';
const device = values.device ?? 'cuda';
const transport = device === 'cuda' ? 'nccl' : 'tcp';
const work = values.work ?? '/tmp/mm-dist-gpu';
const first = (...c: (string | undefined)[]) => c.find((p) => p && existsSync(p));
const tok = first(values.tokenizer, '.anchors/tok', '../shared/data/minimind-tokenizer/head');
const text = first(values.text, '.anchors/pretrain_wiki_demo.jsonl', '../shared/data/pretrain_wiki_demo.jsonl');
if (!tok || !text) {
  console.error('dist-gpu: needs a tokenizer folder (--tokenizer, default .anchors/tok) and a jsonl of long texts (--text, default .anchors/pretrain_wiki_demo.jsonl)');
  process.exit(2);
}
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// 256 examples of ~3500 characters (> 512 tokens each): full 512-token rows, and global batches
// of 64 and 128 that divide the data evenly.
const texts = readFileSync(text, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
const chunks: string[] = [];
for (let i = 0; chunks.length < 256; i++) {
  const t = texts[i % texts.length];
  const at = (Math.floor(i / texts.length) * 3500) % Math.max(t.length - 3500, 1);
  chunks.push(t.slice(at, at + 3500));
}
const data = join(work, 'text.jsonl');
writeFileSync(data, chunks.map((t) => JSON.stringify({ text: t })).join('\n') + '\n');

interface Result { check: string; ok: boolean; [k: string]: unknown }
const results: Result[] = [];
const report = (r: Result) => {
  results.push(r);
  console.log(JSON.stringify(r));
};

const sh = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  return { status: r.status, stderr: r.stderr ?? '', seconds: (Date.now() - t0) / 1000 };
};
const metrics = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
const losses = (out: string) => metrics(out).filter((r) => r.loss !== undefined).map((r) => r.loss);
const tail = (s: string) => s.trim().split('\n').slice(-6).join(' | ');
let port = 29500 + Math.floor(Math.random() * 1000);
const launch = (n: number, args: string[]) => ['launch', '--nproc-per-node', String(n), '--master-port', String(port++), ...args];

// v1-small (26M) at 16 x 256 global, fp32 master weights, bf16 GEMMs, lr 5e-4, 20 steps
const small = (out: string, extra: string[] = []) => ['pretrain', '--data', data, '--tokenizer', tok, '--preset', values['small-preset'] ?? 'v1-small', '--max-seq-len', values['small-seq'] ?? '256', '--pad-to-max-length',
  '--batch-size', '16', '--accumulation-steps', '1', '--learning-rate', '5e-4', '--epochs', '2', '--max-steps', '20', '--log-interval', '1', '--save-interval', '10',
  '--device', device, '--dtype', device === 'cuda' ? 'bf16' : 'fp32', '--out', out, ...(extra.includes('--resume') ? [] : ['--overwrite']), ...extra];

function compare(a: number[], b: number[]) {
  const n = Math.min(a.length, b.length);
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return { steps: [a.length, b.length], maxAbsDiff: max, first: [a[0], b[0]], last: [a[a.length - 1], b[b.length - 1]] };
}

const one = join(work, 'one');
if (only.has('equiv') || only.has('resume')) {
  const r1 = sh([...small(one), '--quiet']);
  if (r1.status !== 0) report({ check: '1-GPU reference run', ok: false, stderr: tail(r1.stderr) });
  else {
    if (only.has('equiv')) {
      const two = join(work, 'two');
      const r2 = sh([...launch(GPUS, small(two))]);
      const ok0 = r2.status === 0 && new RegExp(`data parallel: \\d+ ranks \\(${transport}\\)`).test(r2.stderr);
      const c = ok0 ? compare(losses(one), losses(two)) : null;
      report({ check: `equiv: ${GPUS} GPUs vs 1 GPU, same global batch (v1-small, 16x256, bf16, 20 steps)`, ok: !!c && c.steps[0] === 20 && c.steps[1] === 20 && c.maxAbsDiff <= TOL,
        tolerance: TOL, ...(c ?? { stderr: tail(r2.stderr) }), seconds: r2.seconds });
    }
    if (only.has('resume')) {
      const run = join(work, 'resumed');
      const a = sh([...launch(GPUS, small(run, ['--stop-after', '10', '--quiet']))]);
      const b = a.status === 0 ? sh([...small(run, ['--resume', '--quiet'])]) : a;
      const c = b.status === 0 ? compare(losses(one), losses(run)) : null;
      report({ check: `resume: ${GPUS} GPUs for 10 steps, then 1 GPU --resume to 20`, ok: !!c && c.steps[1] === 20 && c.maxAbsDiff <= TOL, tolerance: TOL, ...(c ?? { stderr: tail(b.stderr) }) });
    }
  }
}

if (only.has('kill')) {
  const out = join(work, 'kill');
  const r = await new Promise<Result>((resolve) => {
    const p = spawn(process.execPath, [cli, ...launch(GPUS, small(out, ['--max-steps', '100000', '--epochs', '1000']))], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killedAt = 0;
    let victim = 0;
    const giveUp = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.stderr.on('data', (d) => {
      stderr += d;
      const m = /\(pids ([\d, ]+)\)/.exec(stderr);
      if (!killedAt && m && (stderr.match(/^pretrain /gm) ?? []).length >= 5) {
        victim = Number(m[1].split(', ')[GPUS - 1]);
        killedAt = Date.now();
        process.kill(victim, 'SIGKILL');
      }
    });
    p.on('exit', (code) => {
      clearTimeout(giveUp);
      const seconds = killedAt ? (Date.now() - killedAt) / 1000 : null;
      const named = new RegExp(`rank ${GPUS - 1} was killed by SIGKILL`).test(stderr);
      resolve({ check: `kill: rank ${GPUS - 1} SIGKILLed mid-run ends the job`, ok: !!killedAt && code !== 0 && named && seconds! < 10, exitCode: code, secondsToStop: seconds,
        message: stderr.split('\n').filter((l) => /^minimind:|^launch:/.test(l)).join(' | ') });
    });
  });
  report(r);
}

if (only.has('speed')) {
  const speedPreset = values['speed-preset'] ?? 'v1';
  const speedBatch = Number(values['speed-batch'] ?? 64);
  const speedSeq = Number(values['speed-seq'] ?? 512);
  const torchShape = (values['torch-shape'] ?? '--d-model 768 --n-layers 16').split(' ');
  // ours: the real trainer (data, shards, NCCL, AdamW, clipping), tokens/s from rank 0's metrics
  // (log every 4 steps; the median of the windows after the first)
  const ours = (n: number) => {
    const out = join(work, `speed${n}`);
    const args = ['pretrain', '--data', data, '--tokenizer', tok, '--preset', speedPreset, '--max-seq-len', String(speedSeq), '--pad-to-max-length', '--batch-size', String(speedBatch * n),
      '--accumulation-steps', '1', '--epochs', '1000', '--max-steps', String(STEPS), '--log-interval', '4', '--save-interval', '100000', '--device', device, '--dtype', device === 'cuda' ? 'bf16' : 'fp32',
      '--out', out, '--overwrite', '--quiet'];
    const r = n === 1 ? sh(args) : sh(launch(n, args));
    if (r.status !== 0) return { tokensPerS: null, stderr: tail(r.stderr) };
    const w = metrics(out).filter((m) => m.tokens_per_s !== undefined && m.step > 1).map((m) => m.tokens_per_s).sort((a, b) => a - b);
    return { tokensPerS: w[Math.floor(w.length / 2)] ?? null, windows: w };
  };
  const torch = (n: number) => {
    const r = spawnSync(python, ['-m', 'torch.distributed.run', '--nproc_per_node', String(n), '--master_port', String(port++), 'bench/ddp_torch.py', '--script', script,
      '--batch', String(speedBatch), '--seq', String(speedSeq), ...torchShape, '--steps', String(Math.max(STEPS - 2, 5)), '--warmup', '3'], { encoding: 'utf8', env: { ...process.env, NCCL_NVLS_ENABLE: '0' } });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{'));
    return line ? (JSON.parse(line) as { tokens_per_second: number }).tokens_per_second : null;
  };
  const rows: { gpus: number; ours: number | null; torch: number | null }[] = [];
  for (const n of GPUS > 1 ? [1, GPUS] : [1]) {
    const o = ours(n);
    const t = torch(n);
    rows.push({ gpus: n, ours: o.tokensPerS, torch: t });
    report({ check: `speed: ${speedPreset} ${device === 'cuda' ? 'bf16' : 'fp32'} ${speedBatch}x${speedSeq} per GPU on ${n} GPU(s)`, ok: o.tokensPerS !== null, oursTokensPerS: o.tokensPerS, ...(o.tokensPerS === null ? { stderr: o.stderr } : { windows: o.windows }), pytorchDdpTokensPerS: t });
  }
  const base = rows[0];
  console.log('\n| GPUs | ours tokens/s | scaling | PyTorch DDP tokens/s | scaling | ours / DDP |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const sc = (x: number | null, b: number | null) => (x && b ? `${((100 * x) / (b * r.gpus)).toFixed(0)}%` : '-');
    console.log(`| ${r.gpus} | ${r.ours?.toFixed(0) ?? '-'} | ${sc(r.ours, base.ours)} | ${r.torch?.toFixed(0) ?? '-'} | ${sc(r.torch, base.torch)} | ${r.ours && r.torch ? (r.ours / r.torch).toFixed(2) : '-'} |`);
  }
}

console.log('\n| check | result |');
console.log('|---|---|');
for (const r of results) console.log(`| ${r.check} | ${r.ok ? 'PASS' : 'FAIL'} |`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
