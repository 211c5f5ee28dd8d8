// GGUF export proven by its real consumer: llama.cpp (through the node-llama-cpp npm package and its
// prebuilt binaries) loads the exported file, tokenizes text into our ids, and decodes greedily
// into exactly our token ids in f32 (the same first tokens in f16 / bf16 / q8_0), for the llama,
// qwen3 and qwen3moe architectures. The `gguf` Python package (when .venv has it) reads the file a
// second time: metadata, tensor shapes and types, and q8_0 blocks dequantized back to our weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { exportGguf, ggufArchitecture, ggufStorageType, type GgufOutType } from '../../src/formats/gguf-export.js';
import { loadModelFolder, saveModelFolder } from '../../src/formats/hf-folder.js';
import { decodeTensor, encodeTensor, quantizeQ8_0 } from '../../src/formats/gguf.js';
import { presetConfig } from '../../src/model/presets.js';
import { MiniMindForCausalLM as MiniMindModel } from '../../src/model/model.js';
type MiniMindForCausalLM = MiniMindModel;
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { greedyIds, PY, smallModelFolder, tmp } from './helpers.js';

type LlamaModule = typeof import('node-llama-cpp');
let llamaLib: { mod: LlamaModule; llama: Awaited<ReturnType<LlamaModule['getLlama']>> } | string | undefined;

/** node-llama-cpp with its prebuilt CPU binary, never building or downloading; a reason string when it cannot load. */
async function llamaCpp(): Promise<Exclude<typeof llamaLib, string | undefined> | string> {
  if (llamaLib !== undefined) return llamaLib;
  try {
    const mod = await import('node-llama-cpp');
    const llama = await mod.getLlama({ gpu: false, build: 'never', skipDownload: true, progressLogs: false, logLevel: mod.LlamaLogLevel.error });
    llamaLib = { mod, llama };
  } catch (e) {
    llamaLib = `node-llama-cpp cannot load here (${(e as Error).message.split('\n')[0]})`;
  }
  return llamaLib;
}

const PROMPT_TEXT = '<|im_start|>user\nThe capital of France is<|im_end|>\n<|im_start|>assistant\n';
const N_NEW = 16;

/**
 * llama.cpp's tokens for text, its greedy continuation of `prompt`, and its log-probabilities of
 * the first new token (temperature 1, no top-k / top-p: the plain softmax of its logits).
 */
async function runLlamaCpp(file: string, text: string, prompt: number[], n: number): Promise<{ tokens: number[]; greedy: number[]; logProbs: Map<number, number> }> {
  const lib = await llamaCpp();
  if (typeof lib === 'string') throw new Error(lib);
  const model = await lib.llama.loadModel({ modelPath: file });
  // f32 KV cache: llama.cpp's default f16 cache rounds keys and values, which is not the export's doing.
  const ctxOpts = { contextSize: 128, threads: 1, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } as const;
  const inContext = async <T>(fn: (seq: ReturnType<Awaited<ReturnType<typeof model.createContext>>['getSequence']>) => Promise<T>): Promise<T> => {
    const context = await model.createContext(ctxOpts);
    try {
      return await fn(context.getSequence());
    } finally {
      await context.dispose();
    }
  };
  try {
    const tokens = model.tokenize(text, true).map(Number);
    const greedy = await inContext(async (seq) => {
      const ids: number[] = [];
      for await (const t of seq.evaluate(prompt as never[], { temperature: 0, yieldEogToken: true })) {
        ids.push(Number(t));
        if (ids.length >= n) break;
      }
      return ids;
    });
    const logProbs = await inContext(async (seq) => {
      const lp = new Map<number, number>();
      // The sampled token is irrelevant, but an end-of-generation one must still be yielded (else the loop ends empty).
      const opts = { temperature: 1, topK: 0, topP: 1, seed: 1, yieldEogToken: true };
      for await (const out of seq.evaluateWithMetadata(prompt as never[], { probabilities: true }, opts)) {
        for (const [id, p] of out.probabilities) lp.set(Number(id), Math.log(p));
        break;
      }
      return lp;
    });
    return { tokens, greedy, logProbs };
  } finally {
    await model.dispose();
  }
}

/** Our log-softmax of the last position's logits. */
function ourLogProbs(model: MiniMindForCausalLM, prompt: number[]): Float32Array {
  model.eval();
  const row = noGrad(() => scope(() => model.forward(tensor(Int32Array.from(prompt), [1, prompt.length], 'int32'), { lastOnly: true }).logits.toArray() as Float32Array));
  let mx = -Infinity;
  for (const v of row) mx = Math.max(mx, v);
  let z = 0;
  for (const v of row) z += Math.exp(v - mx);
  return row.map((v) => v - mx - Math.log(z));
}

/** A copy of the model in `dir` whose weights are what a GGUF file of `type` stores (rounded / quantized). */
function asStored(dir: string, type: GgufOutType): MiniMindForCausalLM {
  const { model } = loadModelFolder(dir);
  const sd = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of model.namedParameters()) {
    const st = ggufStorageType(name, [...t.shape], type);
    sd.set(name, { shape: [...t.shape], data: decodeTensor(encodeTensor(t.toArray() as Float32Array, st), st) });
  }
  model.loadStateDict(sd);
  return model;
}

/**
 * How far llama.cpp's log-probabilities may lie from ours for the same stored weights. Its CPU
 * kernels round the activations to the weights' "vec_dot" type before each matmul (f16 for f16,
 * bf16 for bf16, 8-bit blocks for q8_0) and differ by ~5e-3 even in f32 (measured here: f32
 * 3e-3..8e-3, f16 4e-3..7e-3, bf16 2.6e-2..3.2e-2, q8_0 7.9e-2..1.3e-1). Greedy ids can only be expected to
 * agree while every step's winner leads by more than twice that: clearSteps counts those steps.
 */
const TOL: Record<GgufOutType, number> = { f32: 0.01, f16: 0.01, bf16: 0.05, q8_0: 0.2 };
function clearSteps(margins: number[], tol: number): number {
  const i = margins.findIndex((m) => m <= 2 * tol);
  return i < 0 ? margins.length : i;
}

const CASES: [string, string, number][] = [['tiny', 'llama', 7], ['tiny-3', 'qwen3', 7], ['tiny-3-moe', 'qwen3moe', 1]];

for (const [preset, arch, seed] of CASES) {
  test(`GGUF ${arch} (${preset}): llama.cpp tokenizes as we do and decodes greedily to our ids (f32, f16, bf16, q8_0)`, async (t) => {
    const lib = await llamaCpp();
    if (typeof lib === 'string') {
      t.skip(lib);
      return;
    }
    const { dir, model } = smallModelFolder(preset, {}, seed);
    assert.equal(ggufArchitecture(model.config), arch);
    const tok = Tokenizer.load(dir);
    const prompt = tok.encode(PROMPT_TEXT);
    const out = tmp();
    for (const type of ['f32', 'f16', 'bf16', 'q8_0'] as const) {
      // The function the file encodes: our model with its weights rounded as the file stores them.
      const stored = asStored(dir, type);
      const ours = greedyIds(stored, prompt, N_NEW);
      const clear = clearSteps(ours.margins, TOL[type]);
      // A precondition, not the check: enough clear winners that equal ids mean equal functions.
      if (type === 'f32') assert.ok(clear >= 8, `${type}: only ${clear} greedy steps have a margin above ${2 * TOL[type]} (${ours.margins.map((m) => m.toFixed(4))})`);
      const lp = ourLogProbs(stored, prompt);
      stored.dispose();
      const file = join(out, `m-${type}.gguf`);
      exportGguf(model, dir, file, { type });
      const r = await runLlamaCpp(file, PROMPT_TEXT, prompt, N_NEW);
      assert.deepEqual(r.tokens, prompt, `${type}: llama.cpp's tokenization differs`);
      assert.equal(r.logProbs.size, lp.length, 'llama.cpp gives a probability for every token');
      let worst = 0;
      for (const [id, v] of r.logProbs) worst = Math.max(worst, Math.abs(v - lp[id]));
      const original = greedyIds(model, prompt, 3).ids;
      t.diagnostic(`${type}: max |log p - ours| ${worst.toExponential(2)}; llama.cpp ${JSON.stringify(r.greedy)}, ours ${JSON.stringify(ours.ids)} (${clear} clear steps); unrounded model's first 3: ${JSON.stringify(original)}`);
      assert.ok(worst < TOL[type], `${type}: log-probabilities differ by ${worst}`);
      assert.deepEqual(r.greedy.slice(0, clear), ours.ids.slice(0, clear), `${type}: greedy ids differ`);
      if (type === 'f16') assert.deepEqual(r.greedy.slice(0, 3), original, `${type}: first ids differ from the unrounded model's`);
    }
    const mf = readFileSync(join(out, 'm-f32.gguf.Modelfile'), 'utf8');
    assert.match(mf, /^FROM \.\/m-f32\.gguf$/m);
    assert.match(mf, /PARAMETER stop "<\|im_end\|>"/);
    model.dispose();
    rmSync(out, { recursive: true, force: true });
  });
}

test('GGUF: llama.cpp tokenizes Chinese, digits, contractions and spaces as we do', async (t) => {
  const lib = await llamaCpp();
  if (typeof lib === 'string') { t.skip(lib); return; }
  const { dir, model } = smallModelFolder('tiny');
  const file = join(tmp(), 'm.gguf');
  exportGguf(model, dir, file, { type: 'f16', modelfile: false });
  const tok = Tokenizer.load(dir);
  const gg = await lib.llama.loadModel({ modelPath: file });
  for (const text of ['你好，世界！中国的首都是北京。', "It's 123 + 456 = 579;  we'll   see\n\nyes", 'The  cat\tsat', ' leading space']) {
    assert.deepEqual(gg.tokenize(text, false).map(Number), tok.encode(text), JSON.stringify(text));
  }
  await gg.dispose();
  model.dispose();
});

test('GGUF read back by the gguf Python package: metadata, tensor types and shapes, q8_0 blocks', (t) => {
  if (!existsSync(PY) || spawnSync(PY, ['-c', 'import gguf'], { encoding: 'utf8' }).status !== 0) {
    t.skip(`${PY} with the gguf package not found (bash tools/setup-venv.sh)`);
    return;
  }
  const { dir, model } = smallModelFolder('tiny-3-moe');
  const out = tmp();
  const file = join(out, 'm.gguf');
  exportGguf(model, dir, file, { type: 'q8_0' });
  const r = spawnSync(PY, ['tools/check_gguf.py', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(info.metadata['general.architecture'], 'qwen3moe');
  assert.equal(info.metadata['qwen3moe.expert_count'], 4);
  assert.equal(info.metadata['tokenizer.ggml.model'], 'gpt2');
  const tok = Tokenizer.load(dir);
  assert.equal(info.tokens.length, 400);
  assert.equal(info.tokens[1], '<|im_start|>');
  assert.equal(info.token_types[1], 3, 'special tokens are CONTROL');
  assert.equal(info.metadata['tokenizer.ggml.eos_token_id'], tok.eosTokenId);
  // ggml shapes are innermost first; our (E, F, d) expert stack is ne = [d, F, E].
  const c = model.config;
  assert.deepEqual(info.tensors['blk.0.ffn_gate_exps.weight'], { type: 'Q8_0', shape: [c.hidden_size, c.intermediate_size, c.n_routed_experts] });
  assert.deepEqual(info.tensors['blk.0.attn_q_norm.weight'], { type: 'F32', shape: [c.head_dim] });
  assert.deepEqual(info.tensors['blk.0.ffn_gate_inp.weight'], { type: 'F32', shape: [c.hidden_size, c.n_routed_experts] });
  // gguf's own dequantizer on our q8_0 blocks gives back the weights within half a quantization step.
  const w = model.model.embed_tokens.weight.toArray() as Float32Array;
  const deq = Float32Array.from(info.token_embd_dequantized as number[]);
  assert.equal(deq.length, w.length);
  let worst = 0;
  for (let b = 0; b < w.length / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(w[b * 32 + j]));
    for (let j = 0; j < 32; j++) worst = Math.max(worst, Math.abs(deq[b * 32 + j] - w[b * 32 + j]) / (amax / 127));
  }
  // Half a step from rounding q, plus up to 127 * 2^-11 steps because the scale is stored in f16.
  assert.ok(worst <= 0.5 + 127 / 2048, `q8_0 error ${worst} steps`);
  model.dispose();
  rmSync(out, { recursive: true, force: true });
});

test('q8_0 rounds half away from zero and stores a zero block as zeros', () => {
  const x = new Float32Array(32);
  x[0] = 127; x[1] = 0.5; x[2] = -0.5; x[3] = -127;
  const q = quantizeQ8_0(x);
  assert.equal(q.length, 34);
  const v = new DataView(q.buffer);
  assert.equal(v.getUint16(0, true), 0x3c00, 'scale 1.0 in f16');
  assert.deepEqual([v.getInt8(2), v.getInt8(3), v.getInt8(4), v.getInt8(5)], [127, 1, -1, -127]);
  assert.deepEqual([...quantizeQ8_0(new Float32Array(32))], new Array(34).fill(0));
});

test('GGUF export refuses the models it cannot write, with a reason', () => {
  assert.throws(() => ggufArchitecture(presetConfig('tiny-moe')), /GGUF export: llama\.cpp has no architecture for the DeepSeek-style MoE \(shared experts\)/);
  assert.throws(() => ggufArchitecture(presetConfig('tiny', { rope_interleaved: true })), /interleaved RoPE/);
  assert.throws(() => ggufArchitecture(presetConfig('tiny-3', { inference_rope_scaling: true, max_position_embeddings: 32768 })), /YaRN/);
});

test('minimind export gguf: bad --type and a folder without a tokenizer are one-line errors (exit 2)', () => {
  const { dir, model } = smallModelFolder('tiny');
  model.dispose();
  const cli = 'dist/src/cli/main.js';
  let r = spawnSync(process.execPath, [cli, 'export', 'gguf', '--model', dir, '--out', join(tmp(), 'x.gguf'), '--type', 'q4_k'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^minimind: --type must be one of f32, f16, bf16, q8_0, got 'q4_k'\n$/);
  rmSync(join(dir, 'tokenizer.json'));
  r = spawnSync(process.execPath, [cli, 'export', 'gguf', '--model', dir, '--out', join(tmp(), 'x.gguf')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^minimind: .* has no tokenizer\.json/);
  const loaded = loadModelFolder(dir);
  loaded.model.dispose();
});

const SHARED_TOK = '../shared/data/minimind-tokenizer';
for (const era of ['head', 'minimind2']) {
  const tokDir = join(SHARED_TOK, era);
  test(`GGUF with MiniMind's own ${era} tokenizer: llama.cpp tokenizes and detokenizes as we do (specials, <think>, tool tags, Chinese)`, { skip: existsSync(tokDir) ? false : `${tokDir} not found (shared data absent)` }, async (t) => {
    const lib = await llamaCpp();
    if (typeof lib === 'string') { t.skip(lib); return; }
    const model = new MiniMindModel(presetConfig('tiny-3', { vocab_size: 6400 }));
    const dir = join(tmp(), 'm');
    saveModelFolder(dir, model, { tokenizerDir: tokDir });
    const file = join(tmp(), 'm.gguf');
    exportGguf(model, dir, file, { type: 'f16', modelfile: false });
    model.dispose();
    const tok = Tokenizer.load(dir);
    const gg = await lib.llama.loadModel({ modelPath: file });
    const chat = tok.applyChatTemplate([{ role: 'system', content: '你是一个助手。' }, { role: 'user', content: "What's 12+30? 请回答。" }, { role: 'assistant', content: '<think>\n12+30=42\n</think>\n\n42' }, { role: 'user', content: '<tool_response>{"ok": true}</tool_response>' }], { addGenerationPrompt: true });
    for (const text of [chat, '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>', '北京是中国的首都，上海是最大的城市。  Two  spaces\tand\ttabs\n\n', "I'm sure they'll've done it"]) {
      const ids = tok.encode(text);
      assert.deepEqual(gg.tokenize(text, true).map(Number), ids, JSON.stringify(text.slice(0, 60)));
      assert.equal(gg.detokenize(ids as never[], true), tok.decode(ids), 'detokenize');
    }
    await gg.dispose();
  });
}
