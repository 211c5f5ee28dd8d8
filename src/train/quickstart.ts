// `minimind quickstart`: the whole MiniMind pipeline on built-in data, end to end, on a laptop CPU.
//   1. generate English + Chinese facts (capitals, sums) with a seeded generator (quickstart-data.ts)
//   2. train a byte-level BPE tokenizer on them (minimind-3 special tokens and chat template)
//   3. pretrain a small minimind-3-style model on the facts as plain text
//   4. SFT it on questions and answers about 75% of the facts
//   5. ask it the held-out 25% — facts it read in pretraining but was never asked about — alone
//      and as the 2nd and 3rd turns of chats, and report how often it answers correctly, then
//      print sample conversations; sft/model/generation_config.json is set to the greedy decoding
//      measured, so `chat` and `serve` answer as evaluated
// Everything lands in one run folder (default runs/quickstart): data/, tokenizer/, pretrain/,
// sft/ (sft/model is the chat model), results.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from '../io/fs.js';
import { join, resolve } from '../io/path.js';
import { UserError } from '../core/errors.js';
import { makeFolder } from '../core/paths.js';
import { trainTokenizer } from '../tokenizer/index.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { generate } from '../model/generate.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { loadModelFolder } from '../formats/hf-folder.js';
import { generateQuickstartData, isCorrect, QaItem } from './quickstart-data.js';
import { pretrain } from './pretrain.js';
import { sft } from './sft.js';
import { intOption } from './options.js';
import type { StepReport } from './options.js';
import type { TrainSummary } from './trainer.js';
import { writeFileAtomic } from '../core/write-file.js';
import type { ChatMessage } from '../tokenizer/chat.js';

export interface QuickstartOptions {
  /** Run folder [runs/quickstart]. */
  out?: string;
  /** Data split, initialisation and shuffling [42]. */
  seed?: number;
  hiddenSize?: number;
  numHiddenLayers?: number;
  vocabSize?: number;
  pretrainEpochs?: number;
  sftEpochs?: number;
  /** A much smaller, faster run (for tests; answers are mostly wrong). */
  small?: boolean;
  /** Replace an earlier quickstart in `out`. */
  overwrite?: boolean;
  log?: (message: string) => void;
  onProgress?: (report: StepReport) => void;
  signal?: AbortSignal;
}

/** Correct answers of one kind of fact, in all and per language. */
export interface KindScore {
  accuracy: number;
  correct: number;
  total: number;
  en: string;
  zh: string;
}

/** Bumped whenever the data or the grading changes, so old results.json files are not compared. */
export const QUICKSTART_DATA_VERSION = 3;

/** New tokens an answer may take, in the evaluation and in sft/model/generation_config.json. */
export const ANSWER_TOKENS = 40;

export interface QuickstartResult {
  heldOutAccuracy: number;
  seenAccuracy: number;
  heldOut: number;
  seen: number;
  /** Held-out accuracy per kind of fact (sums generalise from pretraining; capitals are harder). */
  heldOutByKind: Record<'sum' | 'capital', KindScore>;
  seenByKind: Record<'sum' | 'capital', KindScore>;
  /** The held-out questions asked as the 2nd and 3rd turns of three-turn chats (data.heldOutChats). */
  heldOutChatAccuracy: number;
  heldOutChatByKind: Record<'sum' | 'capital', KindScore>;
  seconds: number;
  modelDir: string;
  samples: { question: string; answer: string; correct?: boolean }[];
  /** The first held-out chat, turn by turn (turns 2 and 3 graded). */
  chatSample: { question: string; answer: string; correct?: boolean }[];
  /** Set when the signal stopped a stage: that stage's summary (accuracies are then NaN). */
  interrupted?: TrainSummary;
}

/** Greedy answers to the last user turn of each conversation, batched. */
export function answerChats(model: MiniMindForCausalLM, tok: Tokenizer, chats: ChatMessage[][], maxNewTokens = ANSWER_TOKENS): string[] {
  const prompts = chats.map((c) => tok.encode(tok.applyChatTemplate(c, { addGenerationPrompt: true })));
  return generate(model, prompts, { maxNewTokens, temperature: 0, tokenizer: tok, stopTokenIds: [tok.eosTokenId ?? 2] }).map((r) => (r.text ?? '').trim());
}

/** Greedy answers to single questions, batched. */
export function answer(model: MiniMindForCausalLM, tok: Tokenizer, questions: string[], maxNewTokens = ANSWER_TOKENS): string[] {
  return answerChats(model, tok, questions.map((q) => [{ role: 'user', content: q }]), maxNewTokens);
}

/**
 * Three-turn chats as `minimind chat` holds them: each turn's prompt is the whole history with the
 * model's own earlier answers. Returns the answers to `questions` (turns 2 and 3), in order.
 */
function chatAnswers(model: MiniMindForCausalLM, tok: Tokenizer, chats: { opener: string; questions: QaItem[] }[]): { items: QaItem[]; answers: string[]; histories: ChatMessage[][] } {
  const histories: ChatMessage[][] = chats.map((c) => [{ role: 'user', content: c.opener }]);
  const opened = answerChats(model, tok, histories);
  histories.forEach((h, k) => h.push({ role: 'assistant', content: opened[k] }));
  const answers = new Map<QaItem, string>();
  for (let turn = 0; turn < 2; turn++) {
    const live = chats.map((c, k) => k).filter((k) => chats[k].questions.length > turn);
    for (const k of live) histories[k].push({ role: 'user', content: chats[k].questions[turn].question });
    const out = answerChats(model, tok, live.map((k) => histories[k]));
    live.forEach((k, j) => {
      histories[k].push({ role: 'assistant', content: out[j] });
      answers.set(chats[k].questions[turn], out[j]);
    });
  }
  const items = [...answers.keys()];
  return { items, answers: items.map((q) => answers.get(q)!), histories };
}

function score(items: QaItem[], answers: string[]): { acc: number; byKind: Record<'sum' | 'capital', KindScore> } {
  const right = items.map((it, k) => isCorrect(it, answers[k]));
  const byKind = (kind: 'sum' | 'capital'): KindScore => {
    const count = (lang?: 'en' | 'zh') => {
      const idx = items.map((it, k) => k).filter((k) => items[k].kind === kind && (lang === undefined || items[k].lang === lang));
      return [idx.filter((k) => right[k]).length, idx.length];
    };
    const [correct, total] = count();
    const [en, enTotal] = count('en');
    const [zh, zhTotal] = count('zh');
    return { accuracy: correct / Math.max(total, 1), correct, total, en: `${en}/${enTotal}`, zh: `${zh}/${zhTotal}` };
  };
  return { acc: right.filter(Boolean).length / Math.max(items.length, 1), byKind: { sum: byKind('sum'), capital: byKind('capital') } };
}

function accuracy(model: MiniMindForCausalLM, tok: Tokenizer, items: QaItem[]): { acc: number; answers: string[]; byKind: Record<'sum' | 'capital', KindScore> } {
  const answers = answer(model, tok, items.map((i) => i.question));
  return { ...score(items, answers), answers };
}

export async function quickstart(o: QuickstartOptions = {}): Promise<QuickstartResult> {
  const small = !!o.small;
  const say = (m: string) => o.log?.(m);
  const out = resolve(o.out ?? join('runs', 'quickstart'));
  const seed = intOption(o, 'seed', 42);
  const hidden = intOption(o, 'hiddenSize', small ? 32 : 128, 4);
  const layers = intOption(o, 'numHiddenLayers', small ? 1 : 4, 1);
  const vocab = intOption(o, 'vocabSize', small ? 400 : 1024, 300);
  const preEpochs = intOption(o, 'pretrainEpochs', small ? 1 : 40, 1);
  const sftEpochs = intOption(o, 'sftEpochs', small ? 1 : 12, 1);
  if (hidden % 4 !== 0) throw new UserError(`--hidden-size must be a multiple of 4 (4 attention heads), got ${hidden}`);
  if (!o.overwrite) {
    const earlier = ['data', 'tokenizer', 'pretrain', 'sft', 'results.json'].filter((n) => existsSync(join(out, n)));
    if (earlier.length) throw new UserError(`${out} already holds a quickstart (${earlier.join(', ')}); replace it with --overwrite or choose another --out`);
  }
  const t0 = Date.now();
  const none: KindScore = { accuracy: NaN, correct: 0, total: 0, en: '0/0', zh: '0/0' };
  const stopped = (summary: TrainSummary): QuickstartResult => ({ heldOutAccuracy: NaN, seenAccuracy: NaN, heldOut: 0, seen: 0, heldOutByKind: { sum: none, capital: none }, seenByKind: { sum: none, capital: none }, heldOutChatAccuracy: NaN, heldOutChatByKind: { sum: none, capital: none }, seconds: (Date.now() - t0) / 1000, modelDir: summary.modelDir, samples: [], chatSample: [], interrupted: summary });

  // 1. data
  makeFolder(out); // (through a symlink to a folder still to be made: where it points)
  const data = generateQuickstartData(seed);
  const dataDir = join(out, 'data');
  mkdirSync(dataDir, { recursive: true });
  const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileSync(join(dataDir, 'pretrain.jsonl'), jsonl(data.pretrainTexts.map((text) => ({ text }))));
  writeFileSync(join(dataDir, 'sft.jsonl'), jsonl(data.sftConversations.map((conversations) => ({ conversations }))));
  writeFileSync(join(dataDir, 'heldout.jsonl'), jsonl(data.heldOut.map((q) => ({ conversations: [{ role: 'user', content: q.question }, { role: 'assistant', content: q.answer }] }))));
  say(`[1/5] data: ${data.pretrainTexts.length} pretraining texts, ${data.sftConversations.length} SFT conversations, ${data.heldOut.length} held-out questions → ${dataDir}`);

  // 2. tokenizer
  const tokDir = join(out, 'tokenizer');
  const tok = trainTokenizer({ texts: [...data.pretrainTexts, ...data.sftConversations.map((c) => c.map((m) => m.content).join('\n'))], vocabSize: vocab, preset: 'minimind3' });
  tok.save(tokDir);
  say(`[2/5] tokenizer: ${tok.vocabSize} tokens (minimind-3 specials and chat template) → ${tokDir}`);

  // 3. pretrain, 4. SFT — the same calls as the commands a user would type (printed)
  const run = { batchSize: 16, accumulationSteps: 1, logInterval: 20, saveInterval: 100000, maxSeqLen: 128, seed, overwrite: !!o.overwrite, log: o.log, onProgress: o.onProgress, signal: o.signal };
  say(`[3/5] pretrain: npx minimind pretrain --data ${join(dataDir, 'pretrain.jsonl')} --tokenizer ${tokDir} --preset tiny-3 --hidden-size ${hidden} --num-hidden-layers ${layers} --max-seq-len 128 --seed ${seed} --epochs ${preEpochs} --learning-rate 3e-3 --out ${join(out, 'pretrain')}`);
  const pre = await pretrain({ ...run, data: join(dataDir, 'pretrain.jsonl'), tokenizer: tokDir, preset: 'tiny-3', hiddenSize: hidden, numHiddenLayers: layers, epochs: preEpochs, learningRate: 3e-3, out: join(out, 'pretrain') });
  if (pre.interrupted) return stopped(pre);
  // the held-out loss ~10 times over SFT: a curve in sft/report.html
  const evalInterval = Math.max(1, Math.floor((Math.ceil(data.sftConversations.length / run.batchSize) * sftEpochs) / 10));
  say(`[4/5] sft: npx minimind sft --data ${join(dataDir, 'sft.jsonl')} --eval-data ${join(dataDir, 'heldout.jsonl')} --eval-interval ${evalInterval} --init-from ${join(out, 'pretrain', 'model')} --max-seq-len 128 --seed ${seed} --epochs ${sftEpochs} --learning-rate 1e-3 --out ${join(out, 'sft')}`);
  const tuned = await sft({ ...run, data: join(dataDir, 'sft.jsonl'), evalData: join(dataDir, 'heldout.jsonl'), evalInterval, initFrom: join(out, 'pretrain', 'model'), epochs: sftEpochs, learningRate: 1e-3, out: join(out, 'sft') });
  if (tuned.interrupted) return stopped(tuned);

  // 5. evaluate
  const modelDir = join(out, 'sft', 'model');
  const model = loadModelFolder(modelDir).model;
  model.eval();
  const chatTok = Tokenizer.load(modelDir);
  const held = accuracy(model, chatTok, data.heldOut);
  const seen = accuracy(model, chatTok, data.seen);
  const chats = chatAnswers(model, chatTok, data.heldOutChats);
  const inChats = score(chats.items, chats.answers);
  const seconds = (Date.now() - t0) / 1000;
  const sampleQs = ['Hello!', '你是谁？', ...pickSamples(data.heldOut)];
  const sampleAs = answer(model, chatTok, sampleQs.map((q) => (typeof q === 'string' ? q : q.question)));
  const samples = sampleQs.map((q, k) => (typeof q === 'string' ? { question: q, answer: sampleAs[k] } : { question: q.question, answer: sampleAs[k], correct: isCorrect(q, sampleAs[k]) }));
  const result: QuickstartResult = { heldOutAccuracy: held.acc, seenAccuracy: seen.acc, heldOut: data.heldOut.length, seen: data.seen.length, heldOutByKind: held.byKind, seenByKind: seen.byKind, heldOutChatAccuracy: inChats.acc, heldOutChatByKind: inChats.byKind, seconds, modelDir, samples, chatSample: chatTurns(data.heldOutChats[0], chats.histories[0]) };
  setGreedy(modelDir);
  writeFileSync(
    join(out, 'results.json'),
    JSON.stringify({ data_version: QUICKSTART_DATA_VERSION, seed, ...result, model: model.config, parameters: model.numParameters(), pretrain_loss: pre.finalLoss, sft_loss: tuned.finalLoss, sft_heldout_loss: tuned.evalLoss, heldout_answers: data.heldOut.map((q, k) => ({ ...q, output: held.answers[k], correct: isCorrect(q, held.answers[k]) })), heldout_chat_answers: chats.items.map((q, k) => ({ ...q, output: chats.answers[k], correct: isCorrect(q, chats.answers[k]) })) }, null, 2) + '\n',
  );
  say(`[5/5] evaluation`);
  return result;
}

/** A chat's turns as question / answer pairs, the held-out ones graded. */
function chatTurns(chat: { opener: string; questions: QaItem[] }, history: ChatMessage[]): QuickstartResult['chatSample'] {
  const asked = [undefined, ...chat.questions];
  return asked.map((q, t) => ({ question: history[2 * t].content, answer: history[2 * t + 1].content, ...(q ? { correct: isCorrect(q, history[2 * t + 1].content) } : {}) }));
}

/** The model was measured greedy with ANSWER_TOKENS new tokens: its generation_config says so, so `chat` and `serve` default to it. */
function setGreedy(modelDir: string): void {
  const path = join(modelDir, 'generation_config.json');
  const gc = JSON.parse(readFileSync(path, 'utf8'));
  writeFileAtomic(path, JSON.stringify({ ...gc, do_sample: false, max_new_tokens: ANSWER_TOKENS }, null, 2) + '\n');
}

/** One held-out question of each kind and language, for the printed samples. */
function pickSamples(items: QaItem[]): QaItem[] {
  const out: QaItem[] = [];
  for (const kind of ['capital', 'sum'] as const) for (const lang of ['en', 'zh'] as const) {
    const it = items.find((i) => i.kind === kind && i.lang === lang);
    if (it) out.push(it);
  }
  return out;
}
