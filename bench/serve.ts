// Serving throughput: `minimind serve` (a child process, as users run it) answering C concurrent
// streaming requests, against the same C requests served one at a time (what MiniMind's own server
// does). Reports, at each C, end-to-end throughput (completion tokens / wall time, prefills
// included), decode throughput (tokens after each stream's first / the time during which at least
// one stream was past its first token: the union of the [first token, end] intervals, so one at a
// time counts each request's decode and concurrent the shared window) and time to first token
// (from the moment all C clients arrived, so one-at-a-time counts the wait).
// --torch adds Hugging Face transformers' generate() on the same model folder and prompts, as one
// static batch of C (bench/hf_batch_generate.py), in the same run.
//
//   node dist/bench/serve.js [--preset v1-small|minimind-3] [--streams 1,4,16] [--new-tokens 64]
//        [--weights fp32|bf16|q8] [--repeats 3] [--threads 2] [--device cpu|cuda]
//        [--torch [--torch-threads 1] [--python .venv/bin/python]] [--tokenizer DIR]
// --device cuda serves on the GPU (and runs the --torch reference there too); on a machine
// without ../shared/data pass a tokenizer folder (e.g. .anchors/tok), as scripts/device-serve-bench.sh does.
// (On a loaded machine PyTorch is fastest with one thread: its OpenMP workers spin-wait on cores
// that other processes hold. --torch-threads lets it run at its best.)
//
// The model has random weights (greedy decode of tied random weights repeats a word, so every
// request runs its full --new-tokens; the script checks that) and MiniMind-3's tokenizer from
// ../shared/data. Prompts are English sentences of 20-40 tokens, sent as token ids.
import { parseArgs } from 'node:util';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../src/model/model.js';
import { presetConfig } from '../src/model/presets.js';
import { saveModelFolder } from '../src/formats/hf-folder.js';
import { Tokenizer } from '../src/tokenizer/tokenizer.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'v1-small' },
    streams: { type: 'string', default: '1,4,16' },
    'new-tokens': { type: 'string', default: '64' },
    threads: { type: 'string' },
    'torch-threads': { type: 'string' },
    weights: { type: 'string', default: 'fp32' },
    device: { type: 'string', default: 'cpu' },
    repeats: { type: 'string', default: '3' },
    tokenizer: { type: 'string', default: '../shared/data/minimind-tokenizer/head' },
    torch: { type: 'boolean', default: false },
    python: { type: 'string', default: '.venv/bin/python' },
  },
});
const streams = values.streams!.split(',').map(Number);
const newTokens = Number(values['new-tokens']);
const TOKENIZER = values.tokenizer!;
if (!existsSync(join(TOKENIZER, 'tokenizer.json'))) throw new Error(`${TOKENIZER}/tokenizer.json not found (needs ../shared/data, or pass --tokenizer DIR)`);

const SENTENCES = [
  'Once upon a time there was a little girl who lived in a village near the forest and loved to walk among the tall trees',
  'The capital of France is Paris, a city known for its museums, its cafes and the tower that stands by the river',
  'Machine learning models learn patterns from data; a language model predicts the next word from the words before it',
  'In the morning the farmer fed the chickens, milked the cow and walked to the market to sell fresh eggs and cheese',
  'Tom asked his mother why the sky is blue, and she told him that sunlight is scattered by the air',
  'The train left the station at noon and crossed the mountains before the sun went down behind the hills',
  'Write a short poem about the sea, the wind and a small boat that sails far away from home',
  'Two plus two is four, three plus five is eight, and ten minus four is six',
];

// ---- the model folder and prompts ----
const dir = mkdtempSync(join(tmpdir(), 'mm-bench-serve-'));
const folder = join(dir, values.preset!);
const tok = Tokenizer.load(TOKENIZER);
{
  const model = new MiniMindForCausalLM(presetConfig(values.preset!, { vocab_size: tok.vocabSize, max_position_embeddings: 1024 }), { seed: 1 });
  saveModelFolder(folder, model, { tokenizerDir: TOKENIZER });
  model.dispose();
}
const maxStreams = Math.max(...streams);
const prompts = Array.from({ length: maxStreams }, (_, i) => {
  const s = SENTENCES[i % SENTENCES.length];
  const ids = tok.encode(i < SENTENCES.length ? s : `${s}. ${SENTENCES[(i * 3 + 1) % SENTENCES.length]}`);
  return ids.slice(0, 20 + ((i * 7) % 21)); // 20..40 tokens, ending on a whole word
});

// ---- the server, as a child process ----
async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const env = { ...process.env, ...(values.threads ? { MINIMIND_THREADS: values.threads } : {}) };
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'serve', '--model', folder, '--port', '0', '--max-batch', String(maxStreams), '--weights', values.weights!, '--device', values.device!], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+?)\s/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  return { url, child };
}

interface StreamResult {
  /** From when all clients arrived (t0) to the first text chunk. */
  ttftMs: number;
  endMs: number;
  tokens: number;
}

// The clients share the machine's cores with the server, so they are kept light: node:http on
// keep-alive sockets, and only the events that matter are parsed (up to the first text, and the
// usage chunk). A fetch() client, not even parsing the events, took 80-250 us of CPU per token on
// the loaded machine, ~1 ms per 16-stream step taken from the server; each run reports its share.
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function request(url: string, prompt: number[], t0: number): Promise<StreamResult> {
  const body = JSON.stringify({ model: values.preset, prompt, max_tokens: newTokens, temperature: 0, stream: true, stream_options: { include_usage: true } });
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/completions`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${text}`)));
        return;
      }
      let ttft = -1;
      let tokens = -1;
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => {
        buf += piece;
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const line = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
          if (ttft < 0) {
            if ((JSON.parse(line.slice(6)) as { choices: { text: string }[] }).choices.some((c) => c.text)) ttft = performance.now() - t0;
          } else if (line.includes('"usage":{')) tokens = (JSON.parse(line.slice(6)) as { usage: { completion_tokens: number } }).usage.completion_tokens;
        }
      });
      res.on('error', reject);
      res.on('end', () => {
        if (tokens !== newTokens) return reject(new Error(`a request produced ${tokens} tokens, not ${newTokens}: the timing would not compare like with like`));
        resolve({ ttftMs: ttft, endMs: performance.now() - t0, tokens });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Length of the union of the intervals [ttft, end]: the time some stream was decoding.
function decodingMs(results: StreamResult[]): number {
  const iv = results.map((r) => [r.ttftMs, r.endMs]).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [from, to] = iv[0];
  for (const [a, b] of iv.slice(1)) {
    if (a > to) {
      total += to - from;
      [from, to] = [a, b];
    } else to = Math.max(to, b);
  }
  return total + (to - from);
}

// The C clients hold open (keep-alive) connections before the timed run, as a chat front-end or
// an SDK does: otherwise, on this machine, accepting C new connections is spread over several
// decode steps of the server (a new socket is read one event-loop turn after it is accepted, and
// the clients share the cores with it), and the batch fills up one stream per step.
function openConnections(url: string, c: number): Promise<void> {
  const one = () =>
    new Promise<void>((resolve, reject) => {
      httpRequest(`${url}/health`, { agent }, (res) => res.resume().on('end', resolve).on('error', reject))
        .on('error', reject)
        .end();
    });
  return Promise.all(Array.from({ length: c }, one)).then(() => {});
}

function summary(results: StreamResult[], cpu: NodeJS.CpuUsage): Record<string, number> {
  const wall = Math.max(...results.map((r) => r.endMs)) / 1000;
  const tokens = results.reduce((s, r) => s + r.tokens, 0);
  const ttft = results.map((r) => r.ttftMs).sort((a, b) => a - b);
  return {
    tokens_per_second: Math.round((tokens / wall) * 10) / 10,
    decode_tokens_per_second: Math.round((results.reduce((s, r) => s + r.tokens - 1, 0) / (decodingMs(results) / 1000)) * 10) / 10,
    seconds: Math.round(wall * 100) / 100,
    ttft_mean_ms: Math.round(ttft.reduce((a, b) => a + b, 0) / ttft.length),
    ttft_max_ms: Math.round(ttft[ttft.length - 1]),
    // CPU time of this process (the clients) per completion token: what the measurement takes from the server
    client_cpu_us_per_token: Math.round((cpu.user + cpu.system) / tokens),
  };
}

const { url, child } = await startServer();
try {
  // warm-up, untimed: one request alone and the largest group at once (the first batched steps of a
  // size JIT-compile their code paths and fill the allocators' pools)
  await request(url, prompts[0], performance.now());
  await openConnections(url, maxStreams);
  await Promise.all(prompts.map((p) => request(url, p, performance.now())));
  const rows: Record<string, unknown>[] = [];
  // The two ways alternate, --repeats times each, and the run with the median throughput is
  // reported: on a shared machine a single run can be off by 2x either way.
  const median = (runs: Record<string, number>[]) => runs.sort((a, b) => a.tokens_per_second - b.tokens_per_second)[runs.length >> 1];
  for (const c of streams) {
    const batch = prompts.slice(0, c);
    const together: Record<string, number>[] = [];
    const oneByOne: Record<string, number>[] = [];
    for (let rep = 0; rep < Number(values.repeats); rep++) {
      await openConnections(url, c);
      let t0 = performance.now();
      let cpu0 = process.cpuUsage();
      together.push(summary(await Promise.all(batch.map((p) => request(url, p, t0))), process.cpuUsage(cpu0)));
      t0 = performance.now();
      cpu0 = process.cpuUsage();
      const alone: StreamResult[] = [];
      for (const p of batch) alone.push(await request(url, p, t0));
      oneByOne.push(summary(alone, process.cpuUsage(cpu0)));
    }
    const [a, b] = [median(together), median(oneByOne)];
    const row = { streams: c, concurrent: a, one_at_a_time: b, speedup: Math.round((a.tokens_per_second / b.tokens_per_second) * 100) / 100, decode_speedup: Math.round((a.decode_tokens_per_second / b.decode_tokens_per_second) * 100) / 100, concurrent_runs_tokens_per_second: together.map((r) => r.tokens_per_second), one_at_a_time_runs_tokens_per_second: oneByOne.map((r) => r.tokens_per_second) };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  let torch: unknown[] | undefined;
  if (values.torch) {
    const pf = join(dir, 'prompts.json');
    writeFileSync(pf, JSON.stringify(prompts));
    const args = ['bench/hf_batch_generate.py', '--model', folder, '--prompts', pf, '--new-tokens', String(newTokens), '--batches', streams.join(','), '--device', values.device!, ...(values['torch-threads'] ?? values.threads ? ['--threads', (values['torch-threads'] ?? values.threads)!] : [])];
    const r = spawnSync(values.python!, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`hf_batch_generate.py failed: ${r.stderr}`);
    torch = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    for (const t of torch) console.log(JSON.stringify({ reference: 'transformers generate, one static batch', ...(t as object) }));
  }
  console.log(JSON.stringify({ preset: values.preset, weights: values.weights, device: values.device, new_tokens: newTokens, machine: `${cpus().length} cores (${cpus()[0]?.model}), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`, threads: values.threads ?? 'default', rows, torch }));
} finally {
  child.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
}
