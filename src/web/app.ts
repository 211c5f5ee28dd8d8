// The page: "Run here" (chat with a model folder loaded from the server, dropped files or a zip) and
// "Train here" (the quickstart in the tab, with its loss curve). All computing happens in the
// worker (worker.ts); this file only draws and forwards clicks. Model output is shown as text only.
import { unzipSync } from 'fflate';
import type { ChatMessage, FromWorker, ModelInfo, Sampling, ToWorker } from './protocol.js';
import type { StepReport } from '../train/options.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const worker = new Worker(new URL(`./worker.js${location.search}`, import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);

/** What the page has done, for people reading the console and for the browser tests. */
const state = { backend: '', model: null as ModelInfo | null, lastIds: [] as number[], losses: [] as { stage: string; step: number; loss: number; tokens: number; at: number }[], trained: null as string | null, errors: [] as string[] };
(window as unknown as { minimindPage: typeof state }).minimindPage = state;

// ---- tabs ----
for (const tab of document.querySelectorAll<HTMLButtonElement>('.tab')) {
  tab.onclick = () => {
    for (const t of document.querySelectorAll<HTMLButtonElement>('.tab')) t.classList.toggle('active', t === tab);
    for (const p of document.querySelectorAll<HTMLElement>('.panel')) p.hidden = p.id !== tab.dataset.panel;
  };
}

// ---- Run here: loading ----
const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];

async function loadFiles(list: File[]): Promise<void> {
  const files: { name: string; data: ArrayBuffer }[] = [];
  for (const f of list) {
    if (f.name.endsWith('.zip')) {
      for (const [name, data] of Object.entries(unzipSync(new Uint8Array(await f.arrayBuffer())))) {
        if (!name.endsWith('/')) files.push({ name: name.split('/').pop()!, data: data.slice().buffer });
      }
    } else files.push({ name: f.name, data: await f.arrayBuffer() });
  }
  const missing = ['config.json', 'model.safetensors', 'tokenizer.json'].filter((n) => !files.some((f) => f.name === n));
  if (missing.length) return showError(`these files are missing: ${missing.join(', ')} (a model folder has config.json, model.safetensors and tokenizer.json)`);
  $('model-info').textContent = 'Loading…';
  send({ type: 'load', files, label: list.length === 1 ? list[0].name : `${files.length} files` }, files.map((f) => f.data));
}

async function loadFromServer(): Promise<void> {
  $('model-info').textContent = 'Downloading the server\'s model…';
  const files: { name: string; data: ArrayBuffer }[] = [];
  for (const name of MODEL_FILES) {
    const r = await fetch(`model/${name}`);
    if (r.ok) files.push({ name, data: await r.arrayBuffer() });
  }
  send({ type: 'load', files, label: 'the server\'s model' }, files.map((f) => f.data));
}

$('load-server').onclick = () => void loadFromServer();
fetch('model/config.json', { method: 'HEAD' }).then((r) => ($('load-server').hidden = !r.ok), () => {});
$<HTMLInputElement>('files').onchange = (e) => void loadFiles([...((e.target as HTMLInputElement).files ?? [])]);
const drop = $('drop');
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  void loadFiles([...(e.dataTransfer?.files ?? [])]);
};

function showStored(names: string[]): void {
  const list = $('stored-list');
  list.replaceChildren();
  if (!names.length) return;
  const head = document.createElement('p');
  head.className = 'muted';
  head.textContent = 'Trained in this browser:';
  list.append(head);
  for (const name of names) {
    const row = document.createElement('div');
    row.className = 'stored';
    const span = document.createElement('span');
    span.textContent = name;
    const button = (text: string, m: ToWorker) => {
      const b = document.createElement('button');
      b.textContent = text;
      b.onclick = () => send(m);
      return b;
    };
    row.append(span, button('Load', { type: 'load-stored', name }), button('Download', { type: 'download', name }), button('Delete', { type: 'delete-stored', name }));
    list.append(row);
  }
}

// ---- Run here: chat ----
const history: ChatMessage[] = [];
let answer: HTMLElement | null = null;
let answerText = '';

function bubble(role: string, text: string): HTMLElement {
  const div = document.createElement('div');
  div.className = `msg ${role}`;
  div.textContent = text; // text only: model output is never parsed as HTML
  $('messages').append(div);
  $('messages').scrollTop = $('messages').scrollHeight;
  return div;
}

const num = (id: string): number => Number($<HTMLInputElement>(id).value);
function sampling(): Sampling {
  const seed = $<HTMLInputElement>('seed').value;
  return { temperature: num('temperature'), topP: num('top-p'), topK: num('top-k'), repetitionPenalty: num('repetition-penalty'), maxNewTokens: num('max-new-tokens'), seed: seed === '' ? undefined : Number(seed) };
}

function busy(generating: boolean): void {
  $<HTMLButtonElement>('send').disabled = generating || !state.model;
  $<HTMLButtonElement>('stop-chat').disabled = !generating;
}

$('chat-form').onsubmit = (e) => {
  e.preventDefault();
  const text = $<HTMLTextAreaElement>('prompt').value.trim();
  if (!text || !state.model) return;
  $<HTMLTextAreaElement>('prompt').value = '';
  bubble('user', text);
  history.push({ role: 'user', content: text });
  const system = $<HTMLInputElement>('system').value.trim();
  answer = bubble('assistant', '');
  answerText = '';
  busy(true);
  send({ type: 'chat', messages: system ? [{ role: 'system', content: system }, ...history] : [...history], sampling: sampling() });
};
$('prompt').onkeydown = (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    $<HTMLFormElement>('chat-form').requestSubmit();
  }
};
$('stop-chat').onclick = () => send({ type: 'stop' });
$('clear').onclick = () => {
  history.length = 0;
  $('messages').replaceChildren();
};

function showModel(info: ModelInfo): void {
  state.model = info;
  $('model-info').textContent = `${info.label}: ${(info.parameters / 1e6).toFixed(2)}M parameters, hidden ${info.hiddenSize}, ${info.layers} layers, vocabulary ${info.vocabSize}, context ${info.contextLength}`;
  const d = info.defaults;
  $<HTMLInputElement>('temperature').value = String(d.temperature);
  $<HTMLInputElement>('top-p').value = String(d.topP);
  $<HTMLInputElement>('top-k').value = String(d.topK);
  $<HTMLInputElement>('repetition-penalty').value = String(d.repetitionPenalty);
  $<HTMLInputElement>('max-new-tokens').value = String(Math.min(d.maxNewTokens, info.contextLength));
  history.length = 0;
  $('messages').replaceChildren();
  busy(false);
}

function showError(message: string): void {
  state.errors.push(message);
  if (answer && !answerText) answer.remove();
  answer = null;
  bubble('error', message);
  busy(false);
  trainingDone();
}

// ---- Train here ----
let trainStart = 0;
let stageStart = { stage: '', at: 0, step: 0 };
function start(): void {
  state.losses = [];
  state.trained = null;
  $('log').textContent = '';
  $('result').hidden = true;
  $<HTMLButtonElement>('start').disabled = true;
  $<HTMLButtonElement>('stop-train').disabled = false;
  $('status').textContent = 'Starting…';
  trainStart = performance.now();
  stageStart = { stage: '', at: 0, step: 0 };
  send({ type: 'train', settings: { seed: num('train-seed'), small: $<HTMLSelectElement>('size').value === 'small' } });
}
$('start').onclick = start;
$('stop-train').onclick = () => send({ type: 'stop' });

function trainingDone(): void {
  $<HTMLButtonElement>('start').disabled = false;
  $<HTMLButtonElement>('stop-train').disabled = true;
}

function progress(r: StepReport): void {
  state.losses.push({ stage: r.stage, step: r.step, loss: r.loss, tokens: r.tokens, at: performance.now() });
  const now = performance.now();
  if (r.stage !== stageStart.stage) stageStart = { stage: r.stage, at: now, step: r.step };
  $<HTMLProgressElement>('progress').value = r.step / r.totalSteps;
  // the stage's remaining steps at its speed so far
  const perStep = (now - stageStart.at) / 1000 / Math.max(r.step - stageStart.step, 1);
  const eta = r.step > stageStart.step ? `, ${r.stage} ends in ~${((r.totalSteps - r.step) * perStep).toFixed(0)} s` : '';
  $('status').textContent = `${r.stage}: step ${r.step}/${r.totalSteps}, loss ${r.loss.toFixed(4)}${r.evalLoss !== null ? `, held-out ${r.evalLoss.toFixed(4)}` : ''}${eta} (${((now - trainStart) / 1000).toFixed(0)} s in all)`;
  drawCurve();
}

function drawCurve(): void {
  const canvas = $<HTMLCanvasElement>('curve');
  const ctx = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  const ls = state.losses;
  if (ls.length < 2) return;
  const max = Math.max(...ls.map((l) => l.loss));
  const min = Math.min(...ls.map((l) => l.loss));
  const x = (i: number) => 30 + (i / (ls.length - 1)) * (w - 40);
  const y = (v: number) => 10 + (1 - (v - min) / Math.max(max - min, 1e-9)) * (h - 30);
  ctx.font = '11px sans-serif';
  ctx.fillStyle = '#6b7280';
  ctx.fillText(max.toFixed(2), 2, 14);
  ctx.fillText(min.toFixed(2), 2, h - 18);
  const colors: Record<string, string> = { pretrain: '#2563eb', sft: '#16a34a' };
  for (let i = 1; i < ls.length; i++) {
    ctx.strokeStyle = colors[ls[i].stage] ?? '#9333ea';
    ctx.beginPath();
    ctx.moveTo(x(i - 1), y(ls[i - 1].loss));
    ctx.lineTo(x(i), y(ls[i].loss));
    ctx.stroke();
  }
  let lx = 40;
  for (const [stage, color] of Object.entries(colors)) {
    ctx.fillStyle = color;
    ctx.fillText(stage, lx, h - 4);
    lx += 60;
  }
}

function saveBlob(name: string, data: ArrayBuffer): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type: 'application/zip' }));
  a.download = `${name}.zip`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

$('chat-trained').onclick = () => {
  if (state.trained) send({ type: 'load-stored', name: state.trained });
  $('tab-run').click();
};
$('download-trained').onclick = () => state.trained && send({ type: 'download', name: state.trained });

// ---- the worker's answers ----
worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m.type === 'ready') {
    state.backend = m.backend;
    $('backend').textContent = `computing on: ${m.backend}`;
    send({ type: 'stored' });
  } else if (m.type === 'loaded') showModel(m.info);
  else if (m.type === 'token') {
    answerText += m.text;
    if (answer) answer.textContent = answerText;
    $('messages').scrollTop = $('messages').scrollHeight;
  } else if (m.type === 'done') {
    state.lastIds = m.ids;
    history.push({ role: 'assistant', content: answerText });
    $('speed').textContent = `${m.ids.length} tokens, ${m.tokensPerS.toFixed(1)} tokens/s${m.reason === 'stopped' ? ' (stopped)' : ''}`;
    answer = null;
    busy(false);
  } else if (m.type === 'log') {
    $('log').textContent += m.text + '\n';
    $('log').scrollTop = $('log').scrollHeight;
  } else if (m.type === 'progress') progress(m.report);
  else if (m.type === 'trained') {
    state.trained = m.name;
    trainingDone();
    $('result').hidden = false;
    $('result-text').textContent = m.interrupted
      ? `Stopped after ${m.seconds.toFixed(0)} s; the model as it was is kept as ${m.name}.`
      : `Done in ${m.seconds.toFixed(0)} s: ${(m.heldOutAccuracy * 100).toFixed(0)}% of the held-out questions answered correctly. Kept in this browser as ${m.name}.`;
    $('status').textContent = m.interrupted ? 'Stopped.' : 'Done.';
    send({ type: 'stored' });
  } else if (m.type === 'zip') saveBlob(m.name, m.data);
  else if (m.type === 'stored') showStored(m.names);
  else if (m.type === 'error') showError(m.message);
};
worker.onerror = (e) => showError(`the worker failed: ${e.message}`);
