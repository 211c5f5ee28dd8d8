import { process } from '../io/process.js';
// Progress display for long loops. On a terminal: one line redrawn in place with percent, a bar,
// elapsed<ETA, tokens/s, loss and lr. Elsewhere (logs, CI, pipes): one plain line every
// `logEvery` steps, so log files stay readable.
//
// Rates (steps/s for the ETA, tokens/s) count from the first update on: the work that update
// reports ran before the bar could time it (a trainer's bar is made by the report of its first
// step), so counting it over the ~0 s since the bar was made gave rates like "10200000.00M tok/s".

export interface ProgressStats {
  loss?: number;
  lr?: number;
  /** Extra fields printed as `key value`. */
  extra?: Record<string, number | string>;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${String(m).padStart(2, '0')}:${ss}`;
}

function formatRate(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}

export class Progress {
  private readonly start: number;
  private readonly now: () => number;
  /** Time and steps done at the first update: where the rates start. */
  private first: { at: number; done: number } | null = null;
  private tokens = 0;
  private lastDraw = 0;
  private readonly tty: boolean;

  /**
   * @param total    steps in the whole run (a resumed run: its first update is past 0)
   * @param now      the clock in ms (tests)
   */
  constructor(
    readonly label: string,
    readonly total: number,
    readonly options: { stream?: NodeJS.WriteStream; logEvery?: number; tty?: boolean; now?: () => number } = {},
  ) {
    const stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? !!stream.isTTY;
    this.now = options.now ?? Date.now;
    this.start = this.now();
  }

  private get stream(): NodeJS.WriteStream {
    return this.options.stream ?? process.stderr;
  }

  /** The status line for `done` steps (exported for tests and for log files). */
  line(done: number, stats: ProgressStats = {}): string {
    const now = this.now();
    const elapsed = (now - this.start) / 1000;
    // rates over the time since the first update (none before a second update, or within 1 ms of it)
    const timed = this.first ? (now - this.first.at) / 1000 : 0;
    const rate = timed >= 1e-3 ? (done - this.first!.done) / timed : NaN;
    const eta = rate > 0 ? (this.total - done) / rate : NaN;
    const pct = this.total > 0 ? (100 * done) / this.total : 100;
    const width = 20;
    const fill = Math.round((width * Math.min(pct, 100)) / 100);
    const bar = this.tty ? ` |${'█'.repeat(fill)}${' '.repeat(width - fill)}|` : '';
    const parts = [`${this.label} ${pct.toFixed(0).padStart(3)}%${bar} ${done}/${this.total}`, `[${formatDuration(elapsed)}<${formatDuration(eta)}`];
    parts[1] += this.tokens > 0 && timed >= 1e-3 ? `, ${formatRate(this.tokens / timed)} tok/s]` : ']';
    if (stats.loss !== undefined) parts.push(`loss ${stats.loss.toFixed(4)}`);
    if (stats.lr !== undefined) parts.push(`lr ${stats.lr.toExponential(2)}`);
    for (const [k, v] of Object.entries(stats.extra ?? {})) parts.push(`${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`);
    return parts.join(' ');
  }

  /** Reports `done` steps and `newTokens` tokens processed since the last call. */
  update(done: number, newTokens: number, stats: ProgressStats = {}): void {
    if (this.first === null) this.first = { at: this.now(), done }; // its tokens ran before the clock
    else this.tokens += newTokens;
    if (this.tty) {
      const now = this.now();
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      const cols = this.stream.columns ?? 120;
      this.stream.write(`\r\x1b[2K${this.line(done, stats).slice(0, cols - 1)}`);
    } else if (done % (this.options.logEvery ?? 100) === 0 || done === this.total) {
      this.stream.write(this.line(done, stats) + '\n');
    }
  }

  /** Prints a message above the bar without breaking it. */
  log(message: string): void {
    if (this.tty) this.stream.write(`\r\x1b[2K${message}\n`);
    else this.stream.write(message + '\n');
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.tty) this.stream.write('\n');
  }
}
