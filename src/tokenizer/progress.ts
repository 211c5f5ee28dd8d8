import { process } from '../io/process.js';
// A one-line progress bar on stderr for long tokenizer runs ("reading corpus [###...] 42% 12.0/28.6 MB
// 3.1s ETA 4s"), redrawn at most 5 times a second; silent when disabled.

export class ProgressBar {
  private last = 0;
  private readonly t0 = Date.now();
  constructor(private readonly label: string, private readonly total: number, private readonly enabled: boolean, private readonly unit: 'MB' | '' = '') {}

  update(done: number, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const fmt = (n: number) => (this.unit === 'MB' ? (n / 1e6).toFixed(1) : String(n));
    const secs = (now - this.t0) / 1000;
    const eta = frac > 0 && frac < 1 ? ` ETA ${Math.ceil((secs * (1 - frac)) / frac)}s` : '';
    process.stderr.write(`\r${this.label.padEnd(16)} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${fmt(done)}/${fmt(this.total)}${this.unit ? ' ' + this.unit : ''} ${secs.toFixed(1)}s${eta}   `);
  }

  finish(done: number): void {
    if (!this.enabled) return;
    this.update(done, true);
    process.stderr.write('\n');
  }
}
