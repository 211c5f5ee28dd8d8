// The page's worker: the library itself (the same modules as the Node package, bundled with src/io's
// browser siblings), on the js backend or the tab's WebGPU. It loads model folders into the
// in-memory volume, answers chats token by token, and runs `quickstart()` — the library's own
// tokenizer training, pretraining and SFT — reporting every step to the page.
import './timers.js';
import { nextTick } from './timers.js';
import { zipSync } from 'fflate';
import { setBackend } from '../core/device.js';
import { jsBackend } from '../backends/js/index.js';
import { loadWebgpuBackend, webgpuLoadError } from '../backends/webgpu/index.js';
import { prestartThread } from '../backends/webgpu/thread.browser.js';
import { countParameters } from '../model/config.js';
import { generateSteps } from '../model/generate.js';
import { loadInferenceFolder, type InferenceFolder } from '../formats/inference-folder.js';
import { quickstart } from '../train/quickstart.js';
import { filesUnder, putFile } from '../io/volume.js';
import { rmSync } from '../io/fs.browser.js';
import { storedModels, storeModel, readStoredModel, deleteStoredModel } from './opfs.js';
import type { FromWorker, ToWorker, ModelInfo } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(m, transfer);

/**
 * The backend: WebGPU where the tab has an adapter and may block on it (SharedArrayBuffer needs a
 * cross-origin isolated page: minimind serve sends COOP/COEP), else js. ?backend=js forces js.
 */
async function pickBackend(): Promise<string> {
  setBackend(jsBackend);
  const why = new URL(self.location.href).searchParams.get('backend') === 'js' ? 'asked for js'
    : !(navigator as Navigator & { gpu?: unknown }).gpu ? 'no WebGPU in this browser'
    : !self.crossOriginIsolated ? 'the page is not cross-origin isolated (no SharedArrayBuffer)' : null;
  if (!why) {
    try {
      await prestartThread();
      const webgpu = loadWebgpuBackend();
      if (webgpu) {
        setBackend(webgpu);
        return `webgpu (${webgpu.adapter.description || 'adapter'})`;
      }
      return `js (WebGPU failed: ${webgpuLoadError()})`;
    } catch (e) {
      return `js (WebGPU failed: ${(e as Error).message})`;
    }
  }
  return `js (${why})`;
}

let folder: InferenceFolder | null = null;
let label = '';
let stopRequested = false;
let training: AbortController | null = null;

function info(): ModelInfo {
  const f = folder!;
  const c = f.model.config;
  return {
    label,
    parameters: countParameters(c).total,
    hiddenSize: c.hidden_size,
    layers: c.num_hidden_layers,
    vocabSize: c.vocab_size,
    contextLength: f.contextLength,
    defaults: { temperature: f.defaults.temperature, topP: f.defaults.topP, topK: f.defaults.topK, repetitionPenalty: f.defaults.repetitionPenalty, maxNewTokens: f.defaults.maxNewTokens ?? 256 },
  };
}

/** Puts a model folder's files on the volume at /models/<n> and opens it for generation. */
let loads = 0;
function open(files: Map<string, Uint8Array>, name: string): void {
  const dir = `/models/${++loads}`;
  for (const [file, data] of files) putFile(`${dir}/${file.split('/').pop()}`, data);
  folder = loadInferenceFolder(dir);
  folder.model.eval();
  label = name;
  rmSync(dir, { recursive: true, force: true }); // the weights now live in the model
  post({ type: 'loaded', info: info() });
}

async function chat(m: Extract<ToWorker, { type: 'chat' }>): Promise<void> {
  if (!folder) throw new Error('load a model first');
  const { model, tokenizer } = folder;
  const prompt = tokenizer.encode(tokenizer.applyChatTemplate(m.messages, { addGenerationPrompt: true }));
  const room = folder.contextLength - prompt.length;
  if (room <= 0) throw new Error(`the conversation (${prompt.length} tokens) fills the model's context of ${folder.contextLength}; clear it`);
  const s = m.sampling;
  const steps = generateSteps(model, prompt, { maxNewTokens: Math.min(s.maxNewTokens, room), temperature: s.temperature, topP: s.topP, topK: s.topK, repetitionPenalty: s.repetitionPenalty, seed: s.seed, stopTokenIds: folder.stopTokenIds, tokenizer });
  const ids: number[] = [];
  const t0 = performance.now();
  stopRequested = false;
  let reason = 'stop';
  for (;;) {
    const r = steps.next();
    if (r.done) {
      reason = r.value[0].finishReason;
      break;
    }
    if (r.value.id !== null) {
      ids.push(r.value.id);
      post({ type: 'token', text: r.value.text, id: r.value.id });
    }
    await nextTick(); // lets a stop click in
    if (stopRequested) {
      steps.return([]);
      reason = 'stopped';
      break;
    }
  }
  post({ type: 'done', ids, reason, tokensPerS: ids.length / ((performance.now() - t0) / 1000) });
}

async function train(m: Extract<ToWorker, { type: 'train' }>): Promise<void> {
  training = new AbortController();
  const out = `/runs/${Date.now()}`;
  try {
    const r = await quickstart({
      out, seed: m.settings.seed, small: m.settings.small, pretrainEpochs: m.settings.pretrainEpochs, sftEpochs: m.settings.sftEpochs, signal: training.signal,
      log: (text) => post({ type: 'log', text }),
      onProgress: (report) => post({ type: 'progress', report }),
    });
    const name = `quickstart-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}${r.interrupted ? '-stopped' : ''}`;
    const model = filesUnder(r.modelDir);
    if (model.size) {
      await storeModel(name, model);
      open(model, name);
    }
    post({ type: 'trained', name, seconds: r.seconds, heldOutAccuracy: r.heldOutAccuracy, interrupted: !!r.interrupted });
  } finally {
    training = null;
    rmSync(out, { recursive: true, force: true });
  }
}

/** A stored model as a Hugging Face model folder in a zip (what `minimind chat --model` and transformers load). */
async function download(name: string): Promise<void> {
  const files = await readStoredModel(name);
  const zip = zipSync(Object.fromEntries([...files].map(([f, d]) => [`${name}/${f}`, d])), { level: 6 });
  post({ type: 'zip', name, data: zip.buffer as ArrayBuffer }, [zip.buffer as ArrayBuffer]);
}

const listStored = async (): Promise<void> => post({ type: 'stored', names: await storedModels() });

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'load') open(new Map(m.files.map((f) => [f.name, new Uint8Array(f.data)])), m.label);
  else if (m.type === 'load-stored') open(await readStoredModel(m.name), m.name);
  else if (m.type === 'chat') await chat(m);
  else if (m.type === 'train') await train(m);
  else if (m.type === 'download') await download(m.name);
  else if (m.type === 'stored') await listStored();
  else if (m.type === 'delete-stored') {
    await deleteStoredModel(m.name);
    await listStored();
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'stop') {
    stopRequested = true;
    training?.abort();
    return;
  }
  ready.then(() => handle(m)).catch((err: Error) => post({ type: 'error', message: err.message.replace(/^minimind: /, '') }));
};

const ready = pickBackend().then((backend) => post({ type: 'ready', backend }));
