// Fakes for the generation tests: a model whose logits depend on the whole prefix (so a wrong
// cache position or a wrong fed token changes the output), a scripted model that emits a chosen
// token sequence, and a character tokenizer with a streaming decoder.
import { tensor, type Tensor } from '../../src/core/tensor.js';

/** Cache of the fakes: the ids seen so far per row. */
export class FakeCache {
  rows: number[][];
  constructor(batch: number, readonly maxLen: number) {
    this.rows = Array.from({ length: batch }, () => []);
  }
  get length(): number {
    return this.rows[0].length;
  }
  fork(): this {
    const c = new FakeCache(this.rows.length, this.maxLen);
    c.rows = this.rows.map((r) => [...r]);
    return c as this;
  }
  dispose(): void {}
}

/**
 * Calls seen by a fake, to check the decode loop shape (prefill once, then one token per step):
 * [B, T] per forward(), or the segment lengths of each forwardRagged() step.
 */
export interface CallLog {
  shapes: number[][];
  maxPosition: number;
}

abstract class FakeLM {
  readonly log: CallLog = { shapes: [], maxPosition: -1 };
  constructor(readonly config: { vocab_size: number; eos_token_id: number; max_position_embeddings: number }) {}

  newCache(batch: number, maxLen = this.config.max_position_embeddings): FakeCache {
    return new FakeCache(batch, maxLen);
  }

  /** The logits after this prefix (one row, length V). */
  protected abstract next(prefix: readonly number[]): Float32Array;

  // inputIds: (B, T) → logits (B, T, V) or (B, 1, V) with lastOnly.
  forward(inputIds: Tensor, opts: { cache?: FakeCache; lastOnly?: boolean } = {}): { logits: Tensor; auxLoss: null } {
    const [B, T] = inputIds.shape;
    const V = this.config.vocab_size;
    const ids = inputIds.toArray();
    this.log.shapes.push([B, T]);
    const keep = opts.lastOnly ? 1 : T;
    const out = new Float32Array(B * keep * V);
    for (let b = 0; b < B; b++) {
      const prefix = opts.cache ? opts.cache.rows[b] : [];
      for (let t = 0; t < T; t++) {
        prefix.push(ids[b * T + t]);
        const pos = prefix.length - 1;
        this.log.maxPosition = Math.max(this.log.maxPosition, pos);
        if (pos >= this.config.max_position_embeddings) throw new Error(`fake model: position ${pos} out of range`);
        if (opts.cache && prefix.length > opts.cache.maxLen) throw new Error(`fake model: cache overflow (${prefix.length} > ${opts.cache.maxLen})`);
        const tOut = t - (T - keep);
        if (tOut >= 0) out.set(this.next(prefix), (b * keep + tOut) * V);
      }
    }
    return { logits: tensor(out, [B, keep, V]), auxLoss: null };
  }

  // The engine's step: each segment appends to its own cache; the logits after its last token.
  forwardRagged(segments: readonly { ids: readonly number[]; cache: FakeCache }[]): Float32Array {
    const V = this.config.vocab_size;
    const out = new Float32Array(segments.length * V);
    this.log.shapes.push(segments.map((g) => g.ids.length));
    segments.forEach((g, s) => {
      const { logits } = this.forward(tensor(Int32Array.from(g.ids), [1, g.ids.length], 'int32'), { cache: g.cache, lastOnly: true });
      this.log.shapes.pop(); // logged as this step's segment
      out.set(logits.toArray() as Float32Array, s * V);
    });
    return out;
  }
}

/** Logits = a hash of the whole prefix: pseudo-random but deterministic in every token and position. */
export class HashLM extends FakeLM {
  protected next(prefix: readonly number[]): Float32Array {
    let h = 2166136261;
    for (const id of prefix) h = Math.imul(h ^ (id + 1), 16777619) >>> 0;
    const V = this.config.vocab_size;
    const row = new Float32Array(V);
    for (let i = 0; i < V; i++) {
      h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
      h ^= h >>> 15;
      row[i] = ((h % 2000) - 1000) / 250; // in [-4, 4)
    }
    row[this.config.eos_token_id] = -100; // never stops by itself, so length tests are exact
    return row;
  }
}

/** Greedy output = script[0], script[1], ... (repeating), whatever the prompt. */
export class ScriptLM extends FakeLM {
  constructor(config: FakeLM['config'], readonly script: number[], readonly promptLength: number) {
    super(config);
  }
  protected next(prefix: readonly number[]): Float32Array {
    const row = new Float32Array(this.config.vocab_size).fill(-5);
    row[this.script[(prefix.length - this.promptLength) % this.script.length]] = 5;
    return row;
  }
}

/** Character tokenizer: ids 0..2 are specials, id 3 + k is ALPHABET[k]. */
export const ALPHABET = 'abcdefghijklmnopqrstuvwxyz .!?\n';
export const SPECIALS = ['<pad>', '<s>', '</s>'];
export class CharTokenizer {
  encode(text: string): number[] {
    return [...text].map((c) => {
      const k = ALPHABET.indexOf(c);
      if (k < 0) throw new Error(`CharTokenizer: no token for '${c}'`);
      return 3 + k;
    });
  }
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    return ids.map((id) => (id < 3 ? (opts.skipSpecialTokens ? '' : SPECIALS[id]) : ALPHABET[id - 3])).join('');
  }
  decodeStream(opts: { skipSpecialTokens?: boolean } = {}): { push(id: number): string; flush(): string } {
    return { push: (id) => this.decode([id], opts), flush: () => '' };
  }
}

export const fakeConfig = (overrides: Partial<FakeLM['config']> = {}): FakeLM['config'] => ({
  vocab_size: 3 + ALPHABET.length,
  eos_token_id: 2,
  max_position_embeddings: 64,
  ...overrides,
});

/** The same logits after every prefix. */
export class FixedLM extends FakeLM {
  constructor(config: FakeLM['config'], readonly row: Float32Array) {
    super(config);
  }
  protected next(): Float32Array {
    return this.row;
  }
}
