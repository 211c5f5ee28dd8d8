// Progress display for long loops. On a terminal: one line redrawn in place with percent, a bar,
// elapsed<ETA, tokens/s, loss and lr. Elsewhere (logs, CI, pipes): one plain line every
// `logEvery` steps, so log files stay readable.

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
  private readonly start = Date.now();
  private tokens = 0;
  private lastDraw = 0;
  private readonly tty: boolean;

  /**
   * @param total    steps in the whole run
   * @param startAt  steps already done (a resumed run), so ETA and % count from there
   */
  constructor(
    readonly label: string,
    readonly total: number,
    readonly options: { stream?: NodeJS.WriteStream; logEvery?: number; startAt?: number; tty?: boolean } = {},
  ) {
    const stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? !!stream.isTTY;
  }

  private get stream(): NodeJS.WriteStream {
    return this.options.stream ?? process.stderr;
  }

  /** The status line for `done` steps (exported for tests and for log files). */
  line(done: number, stats: ProgressStats = {}): string {
    const startAt = this.options.startAt ?? 0;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = (done - startAt) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : NaN;
    const pct = this.total > 0 ? (100 * done) / this.total : 100;
    const width = 20;
    const fill = Math.round((width * Math.min(pct, 100)) / 100);
    const bar = this.tty ? ` |${'█'.repeat(fill)}${' '.repeat(width - fill)}|` : '';
    const parts = [`${this.label} ${pct.toFixed(0).padStart(3)}%${bar} ${done}/${this.total}`, `[${formatDuration(elapsed)}<${formatDuration(eta)}`];
    parts[1] += this.tokens > 0 ? `, ${formatRate(this.tokens / Math.max(elapsed, 1e-9))} tok/s]` : ']';
    if (stats.loss !== undefined) parts.push(`loss ${stats.loss.toFixed(4)}`);
    if (stats.lr !== undefined) parts.push(`lr ${stats.lr.toExponential(2)}`);
    for (const [k, v] of Object.entries(stats.extra ?? {})) parts.push(`${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`);
    return parts.join(' ');
  }

  /** Reports `done` steps and `newTokens` tokens processed since the last call. */
  update(done: number, newTokens: number, stats: ProgressStats = {}): void {
    this.tokens += newTokens;
    if (this.tty) {
      const now = Date.now();
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
