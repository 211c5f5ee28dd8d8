// The benchmark workloads shared by bench/train.ts and bench/torch-anchor.ts: each is one
// `minimind bench` command line and the matching ../shared/anchors/torch_minimind.py command line
// (same model shape, batch, sequence, steps). Each runs in its own process so that its peak RSS is
// its own. Both sides print one JSON line; runOurs/runTorch return it parsed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Workload {
  name: string;
  /** arguments after `minimind bench` */
  ours: string[];
  /** arguments of torch_minimind.py */
  torch: string[];
}

export function workloads(steps: number, warmup: number): Workload[] {
  const s = ['--steps', String(steps), '--warmup', String(warmup)];
  return [
    { name: 'train v1-small fp32 8x512', ours: ['train', '--preset', 'v1-small', '--batch', '8', '--seq', '512', ...s], torch: ['--mode', 'train', '--batch', '8', '--seq', '512', ...s] },
    { name: 'train v1-small bf16 8x512', ours: ['train', '--preset', 'v1-small', '--batch', '8', '--seq', '512', '--dtype', 'bf16', ...s], torch: ['--mode', 'train', '--batch', '8', '--seq', '512', '--dtype', 'bf16', ...s] },
    { name: 'forward v1-small fp32 8x512', ours: ['forward', '--preset', 'v1-small', '--batch', '8', '--seq', '512', ...s], torch: ['--mode', 'forward', '--batch', '8', '--seq', '512', ...s] },
    { name: 'generate v1-small fp32 256 new tokens', ours: ['generate', '--preset', 'v1-small', '--seq', '256', '--steps', '2', '--warmup', '1'], torch: ['--mode', 'generate', '--gen-tokens', '256', '--steps', '2', '--warmup', '1'] },
    // Decoding with packed weights (--weights): PyTorch's closest mode is the model cast to bf16; it has
    // no int8 CPU decode here, so q8 is set against its fp32 decode.
    { name: 'generate v1-small bf16 weights 256 new tokens (torch: model in bf16)', ours: ['generate', '--preset', 'v1-small', '--seq', '256', '--steps', '2', '--warmup', '1', '--weights', 'bf16'], torch: ['--mode', 'generate', '--gen-tokens', '256', '--steps', '2', '--warmup', '1', '--dtype', 'bf16'] },
    { name: 'generate v1-small q8 weights 256 new tokens (torch: fp32)', ours: ['generate', '--preset', 'v1-small', '--seq', '256', '--steps', '2', '--warmup', '1', '--weights', 'q8'], torch: ['--mode', 'generate', '--gen-tokens', '256', '--steps', '2', '--warmup', '1'] },
    // minimind-3 (the default preset): the anchor has no QK-norm and sizes its FFN as v1 does (2048 where
    // minimind-3 has 2432), so PyTorch runs ~12 % fewer FLOPs per token than we do here.
    { name: 'train minimind-3 bf16 8x512 (torch: FFN 2048, no QK-norm)', ours: ['train', '--preset', 'minimind-3', '--batch', '8', '--seq', '512', '--dtype', 'bf16', ...s], torch: ['--mode', 'train', '--batch', '8', '--seq', '512', '--dtype', 'bf16', '--d-model', '768', '--n-layers', '8', '--n-heads', '8', '--n-kv-heads', '4', ...s] },
    { name: 'generate minimind-3 q8 weights 256 new tokens (torch: fp32, FFN 2048, no QK-norm)', ours: ['generate', '--preset', 'minimind-3', '--seq', '256', '--steps', '2', '--warmup', '1', '--weights', 'q8'], torch: ['--mode', 'generate', '--gen-tokens', '256', '--steps', '2', '--warmup', '1', '--d-model', '768', '--n-layers', '8', '--n-heads', '8', '--n-kv-heads', '4'] },
    { name: 'train v1-moe fp32 8x512', ours: ['train', '--preset', 'v1-moe', '--batch', '8', '--seq', '512', ...s], torch: ['--mode', 'train', '--batch', '8', '--seq', '512', '--moe', ...s] },
    { name: 'train v1 (108M) fp32 4x512', ours: ['train', '--preset', 'v1', '--batch', '4', '--seq', '512', ...s], torch: ['--mode', 'train', '--batch', '4', '--seq', '512', '--d-model', '768', '--n-layers', '16', ...s] },
  ];
}

function lastJsonLine(out: string): Record<string, unknown> | null {
  const lines = out.trim().split('\n').filter((l) => l.startsWith('{'));
  if (lines.length === 0) return null;
  try {
    return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Runs `minimind bench <args>` (compiled CLI) in a child process. */
export function runOurs(args: string[], threads: number): Record<string, unknown> {
  const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
  const r = spawnSync(process.execPath, [cli, 'bench', ...args, '--threads', String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return lastJsonLine(r.stdout) ?? { error: (r.stderr || r.stdout || String(r.error)).trim().split('\n').pop() };
}

export const TORCH_SCRIPT = join('..', 'shared', 'anchors', 'torch_minimind.py');

/** Where the anchor runs: Debian's python3-torch by default (another Python / copy of the script on other machines). */
export interface TorchSetup {
  python: string;
  script: string;
}
export const DEFAULT_TORCH: TorchSetup = { python: '/usr/bin/python3', script: TORCH_SCRIPT };

/** Why the PyTorch anchor cannot run here, or null. */
export function torchMissing(t: TorchSetup = DEFAULT_TORCH): string | null {
  if (!existsSync(t.script)) return `${t.script} not found (run from the repo root, next to ../shared)`;
  const r = spawnSync(t.python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status !== 0) return `PyTorch is not installed for ${t.python} (apt-get install -y python3-torch libopenblas0-pthread libtcmalloc-minimal4)`;
  return null;
}

/** Runs the anchor with the settings of ../shared/anchors/README.md (tcmalloc, GOMP_SPINCOUNT, no OPENBLAS_CORETYPE). */
export function runTorch(args: string[], threads: number, t: TorchSetup = DEFAULT_TORCH): Record<string, unknown> {
  const env: NodeJS.ProcessEnv = { ...process.env, GOMP_SPINCOUNT: '10000' };
  delete env.OPENBLAS_CORETYPE;
  const tcmalloc = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4';
  if (existsSync(tcmalloc)) env.LD_PRELOAD = tcmalloc;
  const r = spawnSync(t.python, [t.script, ...args, '--threads', String(threads)], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  return lastJsonLine(r.stdout) ?? { error: (r.stderr || r.stdout || String(r.error)).trim().split('\n').pop() };
}

/** The fields worth keeping from either side's JSON. */
export function summary(r: Record<string, unknown>): Record<string, unknown> {
  const keep = ['weights', 'dtype', 'tokens_per_second', 'ms_per_step', 'peak_rss_mb', 'loss_first', 'loss_last', 'eval_loss', 'prefill_ms', 'params', 'torch', 'isa', 'threads', 'loadavg_1m_start', 'loadavg_1m_end', 'error'];
  const out: Record<string, unknown> = {};
  for (const k of keep) if (r[k] !== undefined) out[k] = typeof r[k] === 'number' ? Math.round((r[k] as number) * 100) / 100 : r[k];
  return out;
}
