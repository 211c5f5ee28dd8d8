// Scores C-Eval / CMMLU questions with a causal LM, by one of two methods:
//
//   letter  MiniMind v1's eval_ceval.py: v1's prompt through the chat template (with the generation
//           prompt), left-truncated to max_seq_len; softmax of the logits at the last position; the
//           answer is the letter whose token ('A' ... 'D') is most probable (the first on a tie,
//           as Python's max over a dict).
//   loglik  lm-evaluation-harness's multiple_choice: each choice " A" ... " D" is a continuation of
//           lm-eval's prompt; its score is the summed log-probability of its tokens (acc), and the
//           sum divided by the choice's length in characters (acc_norm).
//
// Several questions go through one forward pass (batch-logits.ts).
import type { MiniMindForCausalLM } from '../model/model.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { UserError } from '../core/errors.js';
import { forEachLogits, logSoftmaxAt, type LogitsRow } from './batch-logits.js';
import { LETTERS, type Letter, type McQuestion, type McSplit } from './mc-data.js';
import { LMEVAL_CONTINUATIONS, lmEvalContext, lmEvalDescription, v1Messages } from './prompts.js';

export type McMethod = 'letter' | 'loglik';

export interface McEvalOptions {
  method: McMethod;
  /** Dev examples put before each question (the first k of its subject, as lm-eval's first_n). */
  shots?: number;
  /** The split the shots come from (dev); needed when shots > 0. */
  dev?: McSplit;
  /** Questions per forward pass (loglik: requests per pass). Default 16. */
  batchSize?: number;
  /** Prompts are cut from the left to this many tokens (v1: 512). Default: the model's max_position_embeddings. */
  maxSeqLen?: number;
  onProgress?: (questionsDone: number, total: number, tokens: number) => void;
}

export interface McResult {
  question: McQuestion;
  /** letter: the logits of the tokens A-D; loglik: the summed log-likelihoods of " A" ... " D". */
  scores: number[];
  /** letter: v1's softmax probabilities of A-D (over the whole vocabulary); loglik: the length-normalised scores. */
  secondary: number[];
  prediction: Letter;
  /** loglik only: the prediction by the length-normalised scores (acc_norm). */
  predictionNorm?: Letter;
  /** Prompt length in tokens, after truncation. */
  tokens: number;
}

/** Scores every question of a split. */
export function evaluateMultipleChoice(model: MiniMindForCausalLM, tokenizer: Tokenizer, split: McSplit, opts: McEvalOptions): McResult[] {
  const shots = opts.shots ?? 0;
  const shotsOf = shotPicker(split, opts.dev, shots);
  const maxSeqLen = Math.min(opts.maxSeqLen ?? model.config.max_position_embeddings, model.config.max_position_embeddings);
  if (!Number.isInteger(maxSeqLen) || maxSeqLen < 2) throw new UserError(`max_seq_len must be an integer >= 2, got ${opts.maxSeqLen}`);
  const questions = split.questions;
  const total = questions.length;
  const batchSize = opts.batchSize ?? 16;
  // Rows run longest first, not in question order: progress counts rows, reported as questions.
  const progress = (rowCount: number) => (rowsDone: number, tokens: number) =>
    opts.onProgress?.(Math.floor((rowsDone / Math.max(1, rowCount)) * total), total, tokens);

  if (opts.method === 'letter') {
    if (tokenizer.chatTemplate === undefined) throw new UserError('the letter method needs a chat template (tokenizer_config.json chat_template); use --method loglik');
    const letterIds = LETTERS.map((l) => singleTokenId(tokenizer, l));
    const rows: LogitsRow[] = questions.map((q) => {
      const text = tokenizer.applyChatTemplate(v1Messages(q, shotsOf(q)), { addGenerationPrompt: true });
      const ids = tokenizer.encode(text).slice(-maxSeqLen);
      return { ids, positions: [ids.length - 1] };
    });
    const results: McResult[] = new Array(total);
    forEachLogits(model, rows, { batchSize, onProgress: progress(rows.length) }, (i, _k, logits) => {
      const scores = letterIds.map((id) => logits[id]);
      const probs = softmaxAt(logits, letterIds);
      results[i] = { question: questions[i], scores, secondary: probs, prediction: LETTERS[argmaxFirst(probs)], tokens: rows[i].ids.length };
    });
    return results;
  }

  // loglik: one row per distinct model input; reads[row][k] are the continuation tokens whose
  // log-probabilities are taken at the row's k-th position.
  const rows: LogitsRow[] = [];
  const reads: { question: number; choice: number; target: number }[][][] = [];
  const sums = questions.map(() => [0, 0, 0, 0]);
  const lengths: number[] = new Array(total).fill(0);
  questions.forEach((q, qi) => {
    const context = lmEvalContext(q, shotsOf(q), lmEvalDescription(split.format, split.info.get(q.subject)?.nameZh));
    const pairs = LMEVAL_CONTINUATIONS.map((cont) => encodePair(tokenizer, context, cont, maxSeqLen));
    lengths[qi] = pairs[0].input.length;
    if (pairs.every((p) => p.continuation.length === 1 && sameIds(p.input, pairs[0].input))) {
      // The usual case: each choice is one token after the same context, so one position serves all four.
      rows.push({ ids: pairs[0].input, positions: [pairs[0].input.length - 1] });
      reads.push([pairs.map((p, choice) => ({ question: qi, choice, target: p.continuation[0] }))]);
    } else {
      pairs.forEach((p, choice) => {
        const n = p.continuation.length;
        rows.push({ ids: p.input, positions: p.continuation.map((_, j) => p.input.length - n + j) });
        reads.push(p.continuation.map((target) => [{ question: qi, choice, target }]));
      });
    }
  });
  forEachLogits(model, rows, { batchSize, onProgress: progress(rows.length) }, (row, k, logits) => {
    const at = reads[row][k];
    const lp = logSoftmaxAt(logits, at.map((r) => r.target));
    at.forEach((r, j) => (sums[r.question][r.choice] += lp[j]));
  });
  return questions.map((q, qi) => {
    const scores = sums[qi];
    const norm = scores.map((s, c) => s / [...LETTERS[c]].length);
    return { question: q, scores, secondary: norm, prediction: LETTERS[argmaxFirst(scores)], predictionNorm: LETTERS[argmaxFirst(norm)], tokens: lengths[qi] };
  });
}

/**
 * lm-eval's HFLM._encode_pair plus its truncation: trailing spaces of the context move to the
 * continuation; the continuation's tokens are those of encode(context + continuation) after
 * len(encode(context)); the model input is (context + continuation)[-(maxLen + 1):][:-1].
 */
export function encodePair(tokenizer: Tokenizer, context: string, continuation: string, maxLen: number): { input: number[]; continuation: number[] } {
  const spaces = context.length - context.trimEnd().length;
  if (spaces > 0) {
    continuation = context.slice(context.length - spaces) + continuation;
    context = context.slice(0, context.length - spaces);
  }
  const whole = tokenizer.encode(context + continuation);
  const ctx = tokenizer.encode(context);
  const cont = whole.slice(ctx.length);
  if (cont.length === 0) throw new UserError(`the continuation '${continuation}' encodes to no tokens after its context`);
  const input = [...ctx, ...cont].slice(-(maxLen + 1)).slice(0, -1);
  return { input, continuation: cont };
}

/** The dev questions shown before each question: the first k of its subject. */
function shotPicker(split: McSplit, dev: McSplit | undefined, k: number): (q: McQuestion) => McQuestion[] {
  if (k <= 0) return () => [];
  if (!dev) throw new UserError('few-shot evaluation needs the dev split (the examples come from it)');
  const bySubject = new Map<string, McQuestion[]>();
  for (const q of dev.questions) {
    if (!bySubject.has(q.subject)) bySubject.set(q.subject, []);
    bySubject.get(q.subject)!.push(q);
  }
  for (const s of split.subjects) {
    const have = bySubject.get(s)?.filter((q) => q.answer !== undefined).length ?? 0;
    if (have < k) throw new UserError(`--shots ${k}: the dev split has ${have} answered question${have === 1 ? '' : 's'} for subject ${s}`);
  }
  return (q) => bySubject.get(q.subject)!.filter((d) => d.answer !== undefined).slice(0, k);
}

/** The id of a text that must be a single token ('A' for the letter method). */
export function singleTokenId(tokenizer: Tokenizer, text: string): number {
  const ids = tokenizer.encode(text);
  if (ids.length !== 1) throw new UserError(`the tokenizer encodes '${text}' as ${ids.length} tokens; the letter method needs one token per letter (use --method loglik)`);
  return ids[0];
}

/** softmax(logits)[ids] over the whole vocabulary, rounded to float32 as PyTorch's F.softmax returns it. */
function softmaxAt(logits: Float32Array, ids: readonly number[]): number[] {
  return logSoftmaxAt(logits, ids).map((lp) => Math.fround(Math.exp(lp)));
}

/** Index of the largest value; the first one on a tie. */
export function argmaxFirst(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
