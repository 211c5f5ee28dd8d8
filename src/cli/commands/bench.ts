// `minimind bench train|forward|generate` — speed of the engine on a MiniMind preset, with random
// tokens, timed after warm-up steps, printed as one JSON line (tokens_per_second, peak_rss_mb, ...).
// The workloads mirror ../shared/anchors/torch_minimind.py so the two can be compared side by side:
//   train    : one fixed random batch reused every step; loss + backward + clip 1.0 + AdamW
//              (lr 5e-4, betas 0.9/0.95, wd 0.1) — the loss must fall.
//   forward  : no-grad forward + cross-entropy on a fixed random batch (eval throughput).
//   generate : batch 1, 16-token random prompt, prefill, then --seq greedy tokens with the KV cache;
//              tokens/s counts the single-token decode steps (as the anchor does).
import * as os from 'node:os';
import { parseFlags, numberFlag, CliError } from '../args.js';
import { loadCpuBackend, cpuLoadError, type CpuBackend } from '../../backends/cpu/index.js';
import { jsBackend } from '../../backends/js/index.js';
import { loadCudaBackend, cudaLoadError, type CudaBackend } from '../../backends/cuda/index.js';
import { loadWebgpuBackend, webgpuLoadError, type WebgpuBackend } from '../../backends/webgpu/index.js';
import type { Backend } from '../../backends/backend.js';
import { setBackend } from '../../core/device.js';
import { tensor } from '../../core/tensor.js';
import { scope } from '../../core/scope.js';
import { noGrad } from '../../core/autograd.js';
import { Rng } from '../../core/random.js';
import { AdamW, clipGradNormSq_ } from '../../optim/index.js';
import { MiniMindForCausalLM } from '../../model/model.js';
import { generate } from '../../model/generate.js';
import { fusedDecodeApplies } from '../../model/fused-decode.js';
import { presetConfig, presetNames } from '../../model/presets.js';
import { useInferenceWeights, WEIGHT_FORMATS, type WeightFormat } from '../../nn/inference-weights.js';
import { memorySizeOption } from '../../train/options.js';

const USAGE = `usage: minimind bench train|forward|generate --preset <name> [options]

  --preset NAME     model preset (${presetNames().join(', ')})
  --batch B         batch size (default 8; generate: always 1)
  --seq T           tokens per sequence (generate: new tokens after a 16-token prompt; default 512)
  --steps N         timed steps (generate: timed generations; default 3)
  --warmup N        untimed warm-up steps (default 1)
  --device cpu|js|cuda|webgpu   cpu = native backend (default; falls back to js with a warning)
  --dtype fp32|bf16 (default fp32)
  --threads N       kernel threads (default: MINIMIND_THREADS or all cores)
  --weights fp32|bf16|q8   generate: weight storage for decoding (default fp32)
  --gradient-checkpointing train: recompute each layer and the LM head in backward (less memory)
  --max-gpu-memory SIZE    cuda: cap the allocator (8G, 512M), as on a smaller card
  --json            print only the JSON line (default prints it too)`;

export interface BenchOptions {
  mode: 'train' | 'forward' | 'generate';
  preset: string;
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
  device: 'cpu' | 'js' | 'cuda' | 'webgpu';
  dtype: 'fp32' | 'bf16';
  threads?: number;
  seed?: number;
  /** generate: weight storage (nn/inference-weights.ts) */
  weights?: WeightFormat;
  /** train: MiniMindForCausalLM.gradientCheckpointing */
  gradientCheckpointing?: boolean;
  /** cuda: allocator cap in bytes (0 or absent: the whole card) */
  maxGpuMemory?: number;
}

export type BenchResult = Record<string, unknown> & { tokens_per_second: number; peak_rss_mb: number };

/** Peak resident set size of this process so far, MiB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function pickBackend(device: BenchOptions['device'], threads?: number): { backend: Backend; note?: string } {
  if (device === 'cuda') {
    const cuda = loadCudaBackend();
    if (!cuda) throw new CliError(`bench: --device cuda: ${cudaLoadError()}; use --device cpu`);
    return { backend: cuda };
  }
  if (device === 'webgpu') {
    const webgpu = loadWebgpuBackend();
    if (!webgpu) throw new CliError(`bench: --device webgpu: ${webgpuLoadError()}; use --device cpu`);
    return { backend: webgpu };
  }
  if (device === 'js') return { backend: jsBackend };
  const cpu = loadCpuBackend();
  if (!cpu) return { backend: jsBackend, note: `native CPU backend unavailable (${cpuLoadError()}); using the js backend` };
  if (threads !== undefined) cpu.setThreads(threads);
  return { backend: cpu };
}

function randomTokens(rng: Rng, n: number, vocab: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(rng.next() * vocab);
  return a;
}

/** Runs one benchmark and returns its JSON record. */
export function runBench(o: BenchOptions): BenchResult {
  const { backend, note } = pickBackend(o.device, o.threads);
  if (note) console.error(`minimind: ${note}`);
  if (o.dtype === 'bf16') {
    // bf16 mixed precision = every GEMM on bf16 operands with fp32 accumulation; weights,
    // gradients, AdamW state and the other kernels stay fp32 (what PyTorch's bf16 autocast does for matmuls)
    if (backend.setMatmulPrecision?.('bf16') !== 'bf16') {
      throw new CliError(`bench: --dtype bf16 is not available on the ${backend.name} backend here (the CPU backend needs AMX or AVX512-BF16); use --dtype fp32`);
    }
  } else {
    backend.setMatmulPrecision?.('fp32');
  }
  const gpu = backend.name === 'cuda' ? (backend as CudaBackend) : null;
  if (o.maxGpuMemory) {
    if (!gpu) throw new CliError('bench: --max-gpu-memory needs --device cuda');
    gpu.setMemoryLimit(o.maxGpuMemory);
  }
  setBackend(backend);
  const config = presetConfig(o.preset);
  const model = new MiniMindForCausalLM(config, { seed: 42 });
  model.gradientCheckpointing = !!o.gradientCheckpointing;
  const params = model.parameters();
  const nParams = params.reduce((s, p) => s + p.size, 0);
  const rng = new Rng(o.seed ?? 1234);
  const V = config.vocab_size;
  const cpu = backend.name === 'cpu' ? (backend as CpuBackend) : null;
  if (o.mode === 'generate' && o.weights && o.weights !== 'fp32') useInferenceWeights(model, o.weights);
  const res: Record<string, unknown> = {
    mode: o.mode, weights: o.mode === 'generate' ? (o.weights ?? 'fp32') : undefined, preset: o.preset, dtype: o.dtype, backend: backend.name, isa: cpu?.isa() ?? null, threads: cpu?.getThreads() ?? 1,
    batch: o.mode === 'generate' ? 1 : o.batch, seq: o.seq, params: nParams, timed_steps: o.steps, warmup_steps: o.warmup,
    gradient_checkpointing: model.gradientCheckpointing,
  };
  const load0 = os.loadavg()[0];

  if (o.mode === 'train' || o.mode === 'forward') {
    const B = o.batch, T = o.seq;
    const data = randomTokens(rng, B * (T + 1), V);
    const x = new Int32Array(B * T), y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      x.set(data.subarray(b * (T + 1), b * (T + 1) + T), b * T);
      // labels aligned with inputs: model.loss shifts them (labels[t+1] is predicted at t)
      y.set(data.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    }
    const ids = tensor(x, [B, T], 'int32').keep();
    const opt = o.mode === 'train' ? new AdamW(params, { lr: 5e-4, betas: [0.9, 0.95], weightDecay: 0.1 }) : null;
    const losses: number[] = [];
    let t0 = 0;
    for (let step = 0; step < o.warmup + o.steps; step++) {
      if (step === o.warmup) {
        gpu?.profileReport(); // the profile covers the timed steps only
        t0 = performance.now();
      }
      if (opt) {
        // as the anchor: nothing read to the host until the step is queued (the clip stays on the device)
        const loss = scope(() => {
          const { loss } = model.loss(ids, y);
          loss.backward();
          return loss;
        });
        clipGradNormSq_(params, 1.0).dispose();
        opt.step();
        opt.zeroGrad();
        losses.push(Math.round(loss.item() * 1e5) / 1e5);
        loss.dispose();
      } else {
        const l = scope(() => noGrad(() => model.loss(ids, y).loss.item()));
        losses.push(Math.round(l * 1e5) / 1e5);
      }
    }
    backend.synchronize?.();
    const dt = (performance.now() - t0) / 1000;
    // the label shift leaves T-1 predicted tokens per row; count B*T like the anchor does
    res.tokens_per_second = (B * T * o.steps) / dt;
    res.ms_per_step = (1000 * dt) / o.steps;
    if (opt) Object.assign(res, { loss_first: losses[0], loss_last: losses[losses.length - 1], loss_trajectory: losses });
    else res.eval_loss = losses[losses.length - 1];
  } else {
    const promptLen = 16, newTokens = o.seq;
    const prompt = randomTokens(rng, promptLen, V);
    // Through generate(), the path users take (on CUDA, decode steps are the fused graph replay).
    const generateOnce = (): { prefill: number; decode: number; toks: number[] } => {
      let tb = 0;
      const ta = performance.now();
      const [r] = generate(model, Array.from(prompt), {
        maxNewTokens: newTokens, temperature: 0, stopTokenIds: [],
        onToken: () => { if (tb === 0) tb = performance.now(); },
      });
      const tc = performance.now();
      return { prefill: tb - ta, decode: tc - tb, toks: r.ids };
    };
    for (let i = 0; i < o.warmup; i++) generateOnce();
    let pre = 0, dec = 0, toks: number[] = [];
    for (let i = 0; i < o.steps; i++) {
      const r = generateOnce();
      pre += r.prefill;
      dec += r.decode;
      toks = r.toks;
    }
    const nDec = (newTokens - 1) * o.steps;
    Object.assign(res, {
      tokens_per_second: nDec / (dec / 1000), ms_per_step: dec / nDec, decode_tokens_per_second: nDec / (dec / 1000), decode_path: fusedDecodeApplies(model) ? 'fused' : 'generic',
      end_to_end_new_tokens_per_second: (newTokens * o.steps) / ((pre + dec) / 1000), prefill_ms: pre / o.steps,
      prompt_len: promptLen, new_tokens: newTokens, first_tokens: toks.slice(0, 8),
    });
  }
  res.peak_rss_mb = peakRssMb();
  if (gpu) Object.assign(res, { gpu: gpu.deviceName, peak_gpu_memory_mb: gpu.memoryStats().peak / 2 ** 20 });
  if (backend.name === 'webgpu') res.gpu = (backend as WebgpuBackend).adapter.description;
  if (gpu && process.env.MINIMIND_CUDA_PROFILE === '1') {
    const rows = gpu.profileReport();
    const total = rows.reduce((s, r) => s + r.ms, 0);
    for (const r of rows) console.error(`${r.kernel.padEnd(24)} ${String(r.calls).padStart(7)} calls ${r.ms.toFixed(1).padStart(9)} ms ${(100 * r.ms / total).toFixed(1).padStart(5)}%`);
  }
  res.loadavg_1m_start = load0;
  res.loadavg_1m_end = os.loadavg()[0];
  model.dispose();
  return res as BenchResult;
}


export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, {
    preset: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' },
    device: { type: 'string' }, dtype: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
    weights: { type: 'string' }, 'gradient-checkpointing': { type: 'boolean' }, 'max-gpu-memory': { type: 'string' },
  }, USAGE);
  if (!parsed) return;
  const { values, positionals } = parsed;
  const mode = positionals[0];
  if (mode !== 'train' && mode !== 'forward' && mode !== 'generate') throw new CliError(`bench: expected train, forward or generate, got '${mode ?? ''}'\n\n${USAGE}`);
  const preset = typeof values.preset === 'string' ? values.preset : 'v1-small';
  if (!presetNames().includes(preset)) {
    try { presetConfig(preset); } catch (e) { throw new CliError(`bench: ${(e as Error).message}`); }
  }
  const device = (values.device ?? 'cpu') as string;
  if (!['cpu', 'js', 'cuda', 'webgpu'].includes(device)) throw new CliError(`bench: --device must be cpu, js, cuda or webgpu, got '${device}'`);
  const dtype = (values.dtype ?? 'fp32') as string;
  if (dtype !== 'fp32' && dtype !== 'bf16') throw new CliError(`bench: --dtype must be fp32 or bf16, got '${dtype}'`);
  const weights = (values.weights ?? 'fp32') as string;
  if (!(WEIGHT_FORMATS as readonly string[]).includes(weights)) throw new CliError(`bench: --weights must be one of ${WEIGHT_FORMATS.join(', ')}, got '${weights}'`);
  if (weights !== 'fp32' && mode !== 'generate') throw new CliError('bench: --weights applies to generate only');
  const int = (name: string, fallback: number, min: number): number => {
    const v = numberFlag(values, name, fallback);
    if (!Number.isInteger(v) || v < min) throw new CliError(`bench: --${name} must be an integer >= ${min}, got ${v}`);
    return v;
  };
  const res = runBench({
    mode, preset, batch: int('batch', 8, 1), seq: int('seq', mode === 'generate' ? 256 : 512, mode === 'generate' ? 2 : 1), steps: int('steps', 3, 1),
    warmup: int('warmup', 1, 0), device: device as BenchOptions['device'], dtype: dtype as BenchOptions['dtype'],
    threads: values.threads === undefined ? undefined : int('threads', 1, 1), seed: values.seed === undefined ? undefined : int('seed', 1234, 0),
    weights: weights as WeightFormat, gradientCheckpointing: !!values['gradient-checkpointing'],
    maxGpuMemory: values['max-gpu-memory'] === undefined ? 0 : memorySizeOption(values['max-gpu-memory'] as string, 'maxGpuMemory'),
  });
  console.log(JSON.stringify(res));
}
