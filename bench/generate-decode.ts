// Greedy decode speed through the real generate() path: batch 1, a random 16-token prompt,
// prefill, then single-token steps with the KV cache — the protocol of
// ../shared/anchors/torch_minimind.py --mode generate. Prints one JSON line; --torch also runs
// the PyTorch anchor in the same run (tuned settings from the anchors README) and adds its figures.
//
//   node dist/bench/generate-decode.js [--backend cpu|js] [--preset v1-small] [--gen-tokens 256]
//        [--prompt-len 16] [--steps 3] [--warmup 1] [--threads 2] [--torch [--python /usr/bin/python3]]
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setBackend } from '../src/core/device.js';
import { jsBackend } from '../src/backends/js/index.js';
import { loadCpuBackend, cpuLoadError } from '../src/backends/cpu/index.js';
import { MiniMindForCausalLM } from '../src/model/model.js';
import { presetConfig } from '../src/model/presets.js';
import { generate } from '../src/model/generate.js';
import { Rng } from '../src/core/random.js';
import { tensor } from '../src/core/tensor.js';
import { scope } from '../src/core/scope.js';
import { noGrad } from '../src/core/autograd.js';
import { argmax } from '../src/model/sampling.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    preset: { type: 'string', default: 'v1-small' },
    'gen-tokens': { type: 'string', default: '256' },
    'prompt-len': { type: 'string', default: '16' },
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    threads: { type: 'string' },
    torch: { type: 'boolean', default: false },
    'torch-script': { type: 'string', default: '../shared/anchors/torch_minimind.py' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const genTokens = Number(values['gen-tokens']);
const promptLen = Number(values['prompt-len']);
const steps = Number(values.steps);
const warmup = Number(values.warmup);

let backendName = values.backend!;
if (backendName === 'cpu') {
  const cpu = loadCpuBackend();
  if (!cpu) throw new Error(`--backend cpu: ${cpuLoadError()}`);
  if (values.threads) cpu.setThreads(Number(values.threads));
  setBackend(cpu);
  backendName = `cpu (${cpu.isa()}, ${cpu.getThreads()} threads)`;
} else if (backendName === 'js') setBackend(jsBackend);
else throw new Error(`--backend must be cpu or js, got ${backendName}`);

const config = presetConfig(values.preset!, { max_position_embeddings: Math.max(1024, promptLen + genTokens + 1) });
const model = new MiniMindForCausalLM(config, { seed: 1234 });
const rng = new Rng(1234);
const prompt = Array.from({ length: promptLen }, () => rng.int(config.vocab_size));

function once(): { prefillMs: number; decodeS: number; ids: number[] } {
  const t0 = performance.now();
  let tFirst = 0;
  let tLast = 0;
  const [r] = generate(model, prompt, {
    maxNewTokens: genTokens,
    temperature: 0,
    stopTokenIds: [],
    onToken: (e) => {
      if (e.id === null) return;
      tLast = performance.now();
      if (tFirst === 0) tFirst = tLast;
    },
  });
  if (r.ids.length !== genTokens) throw new Error(`expected ${genTokens} tokens, got ${r.ids.length}`);
  return { prefillMs: tFirst - t0, decodeS: (tLast - tFirst) / 1000, ids: r.ids };
}

// The same decode as a bare loop (forward with the cache + argmax, nothing else), to show what
// generate() itself adds per token.
function bare(): number {
  const cache = model.newCache(1, promptLen + genTokens);
  let logits = noGrad(() => scope(() => {
    const h = model.forward(tensor(Int32Array.from(prompt), [1, promptLen], 'int32'), { cache, lastOnly: true }).logits.toArray();
    return [argmax(h as Float32Array)];
  }));
  const t0 = performance.now();
  for (let i = 1; i < genTokens; i++) {
    const next = logits[0];
    logits = noGrad(() => scope(() => [argmax(model.forward(tensor(Int32Array.of(next), [1, 1], 'int32'), { cache, lastOnly: true }).logits.toArray() as Float32Array)]));
  }
  const dt = (performance.now() - t0) / 1000;
  cache.dispose();
  return dt;
}

for (let i = 0; i < warmup; i++) once();
const runs = Array.from({ length: steps }, once);
const bareS = Array.from({ length: steps }, bare).reduce((a, b) => a + b, 0);
const decodeS = runs.reduce((s, r) => s + r.decodeS, 0);
const nDecode = (genTokens - 1) * steps;
const result: Record<string, unknown> = {
  bench: 'generate-decode',
  backend: backendName,
  preset: values.preset,
  params: model.numParameters(),
  prompt_len: promptLen,
  new_tokens: genTokens,
  timed_generations: steps,
  decode_tokens_per_second: Math.round((nDecode / decodeS) * 10) / 10,
  ms_per_token: Math.round((1000 * decodeS / nDecode) * 1000) / 1000,
  bare_loop_tokens_per_second: Math.round((((genTokens - 1) * steps) / bareS) * 10) / 10,
  prefill_ms: Math.round((runs.reduce((s, r) => s + r.prefillMs, 0) / steps) * 100) / 100,
  first_tokens: runs[0].ids.slice(0, 8),
};

if (values.torch) {
  // The anchor's own settings (../shared/anchors/README.md), same shape and protocol.
  const script = values['torch-script']!;
  const tcmalloc = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4';
  const env: NodeJS.ProcessEnv = { ...process.env, GOMP_SPINCOUNT: '10000' };
  delete env.OPENBLAS_CORETYPE;
  if (existsSync(tcmalloc)) env.LD_PRELOAD = tcmalloc;
  const args = [script, '--mode', 'generate', '--threads', values.threads ?? '2', '--gen-tokens', String(genTokens), '--prompt-len', String(promptLen), '--steps', String(steps), '--warmup', String(warmup)];
  const r = spawnSync(values.python!, args, { env, encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const t = JSON.parse(line);
    result.torch_decode_tokens_per_second = Math.round(t.decode_tokens_per_second * 10) / 10;
    result.torch_prefill_ms = Math.round(t.prefill_ms * 100) / 100;
  } catch {
    result.torch_error = (r.stderr || line || 'no output').trim().split('\n').pop();
  }
}
console.log(JSON.stringify(result));
