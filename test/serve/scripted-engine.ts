// A test double for the server's Engine: instead of a model it "generates" a fixed script — the
// tokens of a given text, one per event-loop turn, through the real tokenizer's streaming decoder —
// then a stop token. It records the prompts it was given. The tests use it where a random tiny
// model cannot be made to say something specific: reasoning blocks, tool calls, HTML in answers.
import type { ChoiceEvent, Engine, EngineStats, Submission } from '../../src/serve/engine.js';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.js';

export class ScriptedEngine implements Engine {
  readonly prompts: number[][] = [];
  /** Milliseconds between tokens (0: one token per event-loop turn). */
  delayMs = 0;
  private closed = false;

  constructor(
    private readonly tokenizer: Tokenizer,
    public script: string,
  ) {}

  submit(s: Submission): () => void {
    this.prompts.push(s.prompt);
    const ids = this.tokenizer.encode(this.script);
    let cancelled = false;
    for (let choice = 0; choice < s.n; choice++) {
      const decoder = this.tokenizer.decodeStream({ skipSpecialTokens: true });
      let i = 0;
      const tick = () => {
        if (cancelled || this.closed) return;
        if (i < ids.length && i < s.params.maxNewTokens) {
          const e: ChoiceEvent = { id: ids[i], text: decoder.push(ids[i]), sampledTokens: i + 1 };
          i++;
          s.onEvent(choice, e);
          if (this.delayMs > 0) setTimeout(tick, this.delayMs);
          else setImmediate(tick);
          return;
        }
        const length = i >= s.params.maxNewTokens && i < ids.length;
        s.onEvent(choice, { id: null, text: decoder.flush(), finishReason: length ? 'length' : 'stop', sampledTokens: length ? i : i + 1 });
      };
      setImmediate(tick);
    }
    return () => {
      cancelled = true;
    };
  }

  stats(): EngineStats {
    return { running: 0, waiting: 0, maxBatch: 1, maxQueue: 0, peakRunning: 0, cancelled: 0 };
  }

  close(): void {
    this.closed = true;
  }
}
