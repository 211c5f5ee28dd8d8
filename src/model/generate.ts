// generate(): prompts in, new tokens out, as a batch on the generation engine (batch-generate.ts);
// one prompt is a batch of one, whose decode steps take the model's fused batch-1 step where it has
// one. Sampling, stop tokens and stop strings are the engine's (sampling.ts processors).
//
//   const [r] = generate(model, tokenizer.encode(prompt), { maxNewTokens: 64, temperature: 0, tokenizer });
//   r.ids   // new tokens only (a stop token is not included)
//   r.text  // their text, cut before a stop string
//
// Prompts of any lengths run together (each sequence at its own positions: MiniMind has no
// position_ids, so nothing is padded), and row i samples from rowRng(seed, i), so a row's tokens do
// not depend on the rows beside it.
import { ContinuousBatch, type CausalLM, type FinishReason, type SamplingParams, type StreamingTokenizer } from './batch-generate.js';

export type { CausalLM, FinishReason, StreamingTokenizer };

export interface GenerateOptions extends Pick<SamplingParams, 'maxNewTokens' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty' | 'frequencyPenalty' | 'presencePenalty' | 'stopTokenIds' | 'stopStrings' | 'skipSpecialTokens' | 'seed'> {
  /** Gives results and events their text; required for stop strings. */
  tokenizer?: StreamingTokenizer;
  /** Called for every new token, and once more per row when it finishes (id null, finishReason set). */
  onToken?: (event: TokenEvent) => void;
}

export interface TokenEvent {
  /** Index of the prompt this token belongs to. */
  row: number;
  /** The new token, or null on the row's final event. */
  id: number | null;
  /** Newly visible text ('' without a tokenizer, or while text is held back: partial UTF-8 or a possible stop string). */
  text: string;
  /** Set on the row's final event. */
  finishReason?: FinishReason;
}

export interface GenerationResult {
  /** The new tokens only. */
  ids: number[];
  /** Their text (when a tokenizer was given). */
  text?: string;
  finishReason: FinishReason;
}

/** Generates for one prompt (number[]) or several (number[][]); returns one result per prompt. */
export function generate(model: CausalLM, prompts: number[] | number[][], opts: GenerateOptions): GenerationResult[] {
  const steps = generateSteps(model, prompts, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    opts.onToken?.(r.value);
  }
}

/**
 * The same as generate, as an async iterator of token events (the final events carry
 * finishReason). It yields to the event loop after every event, so a server stays responsive.
 */
export async function* generateStream(model: CausalLM, prompts: number[] | number[][], opts: GenerateOptions): AsyncGenerator<TokenEvent, GenerationResult[]> {
  const steps = generateSteps(model, prompts, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    yield r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The generation loop as a synchronous generator of token events; returns the results. */
export function* generateSteps(model: CausalLM, prompts: number[] | number[][], opts: GenerateOptions): Generator<TokenEvent, GenerationResult[]> {
  const rows: number[][] = prompts.length > 0 && Array.isArray(prompts[0]) ? (prompts as number[][]) : [prompts as number[]];
  const { tokenizer, onToken: _, ...params } = opts;
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const batch = new ContinuousBatch(model, { tokenizer, maxBatch: Math.max(64, rows.length) });
  const events: TokenEvent[] = [];
  try {
    // Token log-probabilities are the server's; generate() does not pay for them.
    const seqs = rows.map((p, row) => batch.add(p, { ...params, seed, logprobs: false }, (_s, e) => events.push({ row, id: e.id, text: e.text, ...(e.finishReason ? { finishReason: e.finishReason } : {}) }), { firstStream: row })[0]);
    for (let more = true; more; ) {
      more = batch.step();
      yield* events;
      events.length = 0;
    }
    return seqs.map((s) => {
      const r = s.result();
      return { ids: r.ids, ...(r.text !== undefined ? { text: r.text } : {}), finishReason: r.finishReason };
    });
  } finally {
    batch.dispose();
  }
}
