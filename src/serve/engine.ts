// The server's generation engine: one ContinuousBatch driven by a loop that runs one decode step
// per event-loop turn. Requests join the batch as they arrive and leave when they finish or their
// client goes away, so N concurrent streams share each step's weight reads instead of queueing
// behind each other. Between steps the loop yields (setImmediate), so HTTP requests, writes to
// slow readers and disconnects are handled while generation goes on.
//
// The HTTP layer talks to the Engine interface only; tests can put a scripted engine behind it.
import { ContinuousBatch, type SamplingParams, type Sequence, type SequenceEvent } from '../model/batch-generate.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import type { StreamingTokenizer } from '../model/generate.js';
import { badParam, errors } from './errors.js';

/** What one choice reports: its events, and at the end its token count. */
export interface ChoiceEvent extends SequenceEvent {
  /** Tokens produced so far (the stop token included), for usage. */
  sampledTokens: number;
}

export interface Submission {
  prompt: number[];
  params: SamplingParams;
  /** Choices (samples) of this prompt; choice i samples from rowRng(seed, i). */
  n: number;
  onEvent: (choice: number, e: ChoiceEvent) => void;
  /** Generation failed (an engine error); no more events follow. */
  onError: (err: Error) => void;
}

export interface Engine {
  /**
   * Queues a request; throws an ApiError 429 when the queue is full (so at most maxBatch + maxQueue
   * sequences are held at a time). Returns a cancel function.
   */
  submit(s: Submission): () => void;
  /** Sequences decoding and waiting, for /health. */
  stats(): EngineStats;
  close(): void;
}

export interface EngineStats {
  /** Sequences decoding now, and waiting for a slot. */
  running: number;
  waiting: number;
  maxBatch: number;
  maxQueue: number;
  /** Since start: the most sequences decoded in one step, and sequences cancelled by their client. */
  peakRunning: number;
  cancelled: number;
}

export interface BatchEngineOptions {
  tokenizer: StreamingTokenizer;
  /** Sequences decoded together per step at most (default 16). */
  maxBatch?: number;
  /** Sequences allowed to wait for a slot (default 64); beyond it, requests get 429. */
  maxQueue?: number;
  /**
   * Prompt tokens prefilled per step at most (default 512, vLLM's chunked-prefill default): a burst
   * of 16 chat-sized prompts (20-40 tokens) joins in one step, so the streams start decoding
   * together instead of the first ones waiting through the others' prefill; a longer prompt is
   * prefilled in chunks between decode steps.
   */
  maxPrefillTokens?: number;
}

export class BatchEngine implements Engine {
  private batch: ContinuousBatch;
  private readonly owners = new Map<Sequence, Submission>();
  private running = false;
  private closed = false;
  private peak = 0;
  private cancelled = 0;
  readonly maxBatch: number;
  readonly maxQueue: number;

  constructor(
    readonly model: MiniMindForCausalLM,
    readonly opts: BatchEngineOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 16;
    this.maxQueue = opts.maxQueue ?? 64;
    this.batch = this.newBatch();
  }

  submit(s: Submission): () => void {
    if (this.closed) throw errors.internal('the server is shutting down');
    if (s.n > this.maxBatch) throw badParam('n', `n = ${s.n} choices exceed this server's batch of ${this.maxBatch} sequences (--max-batch).`);
    // Waiting = the sequences, these included, beyond the batch's slots.
    const waiting = this.batch.runningCount + this.batch.pendingCount + s.n - this.maxBatch;
    if (waiting > this.maxQueue) throw errors.queueFull(this.maxQueue);
    const seqs = this.batch.add(s.prompt, s.params, (seq, e) => s.onEvent(seqs.indexOf(seq), { ...e, sampledTokens: seq.sampledTokens }), { n: s.n });
    for (const q of seqs) this.owners.set(q, s);
    this.kick();
    return () => {
      for (const q of seqs) {
        if (q.done || q.cancelled) continue;
        this.cancelled++;
        this.batch.cancel(q);
        this.owners.delete(q);
      }
    };
  }

  stats(): EngineStats {
    return { running: this.batch.runningCount, waiting: this.batch.pendingCount, maxBatch: this.maxBatch, maxQueue: this.maxQueue, peakRunning: this.peak, cancelled: this.cancelled };
  }

  close(): void {
    this.closed = true;
    this.batch.dispose();
    this.owners.clear();
  }

  private newBatch(): ContinuousBatch {
    return new ContinuousBatch(this.model, { tokenizer: this.opts.tokenizer, maxBatch: this.maxBatch, maxPrefillTokens: this.opts.maxPrefillTokens ?? 512 });
  }

  // Starts the step loop unless it is running; it stops by itself when the batch is idle.
  private kick(): void {
    if (this.running) return;
    this.running = true;
    setImmediate(() => this.loop());
  }

  private loop(): void {
    if (this.closed) return;
    try {
      this.batch.step();
      this.peak = Math.max(this.peak, this.batch.lastStepSize);
    } catch (e) {
      this.fail(e as Error);
    }
    for (const q of [...this.owners.keys()]) if (q.done || q.cancelled) this.owners.delete(q);
    if (this.batch.idle || this.closed) {
      this.running = false;
      return;
    }
    setImmediate(() => this.loop());
  }

  // A step threw (a bug or out of memory): every request in flight gets the error and the batch
  // starts over empty, so the server keeps serving the next requests.
  private fail(err: Error): void {
    const subs = new Set(this.owners.values());
    this.owners.clear();
    this.batch.dispose();
    this.batch = this.newBatch();
    for (const s of subs) s.onError(err);
  }
}
