// `minimind quickstart`: the whole MiniMind pipeline on built-in data, end to end, on a laptop CPU.
//   1. generate English + Chinese facts (capitals, sums) with a seeded generator (quickstart-data.ts)
//   2. train a byte-level BPE tokenizer on them (minimind-3 special tokens and chat template)
//   3. pretrain a small minimind-3-style model on the facts as plain text
//   4. SFT it on questions and answers about 75% of the facts
//   5. ask it the held-out 25% — facts it read in pretraining but was never asked about — and
//      report how often it answers correctly, then print sample conversations
// Everything lands in one run folder (default runs/quickstart): data/, tokenizer/, pretrain/,
// sft/ (sft/model is the chat model), results.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, numberFlag, parseFlags } from '../cli/args.js';
import { trainTokenizer } from '../tokenizer/index.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { generate } from '../model/generate.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { generateQuickstartData, isCorrect, QaItem } from './quickstart-data.js';
import { runPretrain } from './pretrain.js';
import { runSft } from './sft.js';
import { loadModelFolder } from './model-io.js';
import { formatDuration } from './progress.js';

const USAGE = `Usage: minimind quickstart [options]

Trains a tokenizer and a small chat model from scratch on built-in, generated data (English and
Chinese facts: capitals of 40 countries, sums of single digits), then measures how often it answers
questions about held-out facts it only read during pretraining.

  --out DIR                 run folder [runs/quickstart]
  --seed N                  data split, initialisation and shuffling [42]
  --hidden-size N [128]  --num-hidden-layers N [4]  --vocab-size N [1024]
  --pretrain-epochs N [40]  --sft-epochs N [12]
  --small                   a much smaller, faster run (for tests; answers are mostly wrong)`;

export interface QuickstartResult {
  heldOutAccuracy: number;
  seenAccuracy: number;
  heldOut: number;
  seen: number;
  seconds: number;
  modelDir: string;
  samples: { question: string; answer: string; correct?: boolean }[];
}

/** Greedy answers to questions, batched. */
export function answer(model: MiniMindForCausalLM, tok: Tokenizer, questions: string[], maxNewTokens = 40): string[] {
  const prompts = questions.map((q) => tok.encode(tok.applyChatTemplate([{ role: 'user', content: q }], { addGenerationPrompt: true })));
  return generate(model, prompts, { maxNewTokens, temperature: 0, tokenizer: tok, stopTokenIds: [tok.eosTokenId ?? 2] }).map((r) => (r.text ?? '').trim());
}

function accuracy(model: MiniMindForCausalLM, tok: Tokenizer, items: QaItem[]): { acc: number; answers: string[] } {
  const answers = answer(model, tok, items.map((i) => i.question));
  const ok = items.filter((it, k) => isCorrect(it, answers[k])).length;
  return { acc: ok / Math.max(items.length, 1), answers };
}

export async function runQuickstart(argv: string[]): Promise<QuickstartResult | null> {
  const parsed = parseFlags(
    argv,
    {
      out: { type: 'string' },
      seed: { type: 'string' },
      'hidden-size': { type: 'string' },
      'num-hidden-layers': { type: 'string' },
      'vocab-size': { type: 'string' },
      'pretrain-epochs': { type: 'string' },
      'sft-epochs': { type: 'string' },
      small: { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    USAGE,
  );
  if (!parsed) return null;
  const v = parsed.values;
  const small = !!v.small;
  const quiet = !!v.quiet;
  const say = (m: string) => {
    if (!quiet) process.stderr.write(m + '\n');
  };
  const out = resolve(typeof v.out === 'string' ? v.out : join('runs', 'quickstart'));
  const seed = numberFlag(v, 'seed', 42);
  const hidden = numberFlag(v, 'hidden-size', small ? 32 : 128);
  const layers = numberFlag(v, 'num-hidden-layers', small ? 1 : 4);
  const vocab = numberFlag(v, 'vocab-size', small ? 400 : 1024);
  const preEpochs = numberFlag(v, 'pretrain-epochs', small ? 1 : 40);
  const sftEpochs = numberFlag(v, 'sft-epochs', small ? 1 : 12);
  if (hidden % 4 !== 0) throw new CliError(`--hidden-size must be a multiple of 4 (4 attention heads), got ${hidden}`);
  const t0 = Date.now();

  // 1. data
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

  // 3. pretrain, 4. SFT — the same commands a user would type
  const modelFlags = ['--preset', 'tiny-3', '--hidden-size', String(hidden), '--num-hidden-layers', String(layers), '--max-seq-len', '128', '--seed', String(seed)];
  const runFlags = ['--batch-size', '16', '--accumulation-steps', '1', '--log-interval', '20', '--save-interval', '100000', ...(quiet ? ['--quiet'] : [])];
  say(`[3/5] pretrain: minimind pretrain --data ${join(dataDir, 'pretrain.jsonl')} --tokenizer ${tokDir} ${modelFlags.join(' ')} --epochs ${preEpochs} --learning-rate 3e-3`);
  const pre = await runPretrain(['--data', join(dataDir, 'pretrain.jsonl'), '--tokenizer', tokDir, ...modelFlags, ...runFlags, '--epochs', String(preEpochs), '--learning-rate', '3e-3', '--out', join(out, 'pretrain')]);
  say(`[4/5] sft: minimind sft --data ${join(dataDir, 'sft.jsonl')} --init-from ${join(out, 'pretrain', 'model')} --epochs ${sftEpochs} --learning-rate 1e-3`);
  const sft = await runSft([
    '--data', join(dataDir, 'sft.jsonl'), '--eval-data', join(dataDir, 'heldout.jsonl'), '--init-from', join(out, 'pretrain', 'model'),
    '--max-seq-len', '128', '--seed', String(seed), ...runFlags, '--epochs', String(sftEpochs), '--learning-rate', '1e-3', '--out', join(out, 'sft'),
  ]);
  if (!pre || !sft) return null;

  // 5. evaluate
  const modelDir = join(out, 'sft', 'model');
  const model = loadModelFolder(modelDir);
  model.eval();
  const chatTok = Tokenizer.load(modelDir);
  const held = accuracy(model, chatTok, data.heldOut);
  const seen = accuracy(model, chatTok, data.seen);
  const seconds = (Date.now() - t0) / 1000;
  const sampleQs = ['Hello!', '你是谁？', ...pickSamples(data.heldOut)];
  const sampleAs = answer(model, chatTok, sampleQs.map((q) => (typeof q === 'string' ? q : q.question)));
  const samples = sampleQs.map((q, k) => (typeof q === 'string' ? { question: q, answer: sampleAs[k] } : { question: q.question, answer: sampleAs[k], correct: isCorrect(q, sampleAs[k]) }));
  const result: QuickstartResult = { heldOutAccuracy: held.acc, seenAccuracy: seen.acc, heldOut: data.heldOut.length, seen: data.seen.length, seconds, modelDir, samples };
  writeFileSync(
    join(out, 'results.json'),
    JSON.stringify({ ...result, model: model.config, parameters: model.numParameters(), pretrain_loss: pre.finalLoss, sft_loss: sft.finalLoss, sft_heldout_loss: sft.evalLoss, heldout_answers: data.heldOut.map((q, k) => ({ ...q, output: held.answers[k], correct: isCorrect(q, held.answers[k]) })) }, null, 2) + '\n',
  );
  say(`[5/5] evaluation`);
  if (!quiet) {
    console.log(`\nSample conversations (greedy; ✓/✗ on held-out facts the model never saw as a question):`);
    for (const s of samples) console.log(`  user:      ${s.question}\n  assistant: ${s.answer}${s.correct === undefined ? '' : s.correct ? '  ✓' : '  ✗'}\n`);
    console.log(`Held-out questions answered correctly: ${(100 * held.acc).toFixed(1)}% of ${data.heldOut.length} (questions seen in SFT: ${(100 * seen.acc).toFixed(1)}% of ${data.seen.length})`);
    console.log(`Model: ${(model.numParameters() / 1e6).toFixed(2)}M parameters; total time ${formatDuration(seconds)} (mm:ss).`);
    console.log(`\nChat with it:  minimind chat --model ${modelDir}`);
    console.log(`Loss curves:   ${join(out, 'pretrain', 'report.html')}  and  ${join(out, 'sft', 'report.html')}`);
  }
  return result;
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
