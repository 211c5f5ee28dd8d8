// A tally of rows a command set aside, one count per reason with the first few places
// (file:line) as examples, so a summary can say "3,112 rows: invalid JSON (first at a.jsonl:17)"
// instead of a stack trace or one line per row. A reason's trailing detail in parentheses that
// differs from row to row (the JSON parser quotes each bad line) is folded into one reason, keeping
// the first detail as an example: a million different broken lines are one line, and one entry in
// memory, not a million.
import { quoteUserText } from '../core/errors.js';

export interface RejectReason {
  count: number;
  /** The first full message seen for this reason (with its detail). */
  first: string;
  /** Whether later rows gave other details than the first. */
  varied: boolean;
  /** The first few `file:line` places, in reading order. */
  where: string[];
  /** The first few rejected texts (clean keeps a sample of what each filter removed). */
  samples: string[];
}

export class Rejects {
  readonly reasons = new Map<string, RejectReason>();

  constructor(readonly keep = 3) {}

  add(reason: string, where: string, sample?: string): void {
    const key = / \(/.test(reason) && reason.endsWith(')') ? reason.slice(0, reason.indexOf(' (')) : reason;
    let r = this.reasons.get(key);
    if (!r) this.reasons.set(key, (r = { count: 0, first: reason, varied: false, where: [], samples: [] }));
    else if (reason !== r.first) r.varied = true;
    r.count++;
    if (r.where.length < this.keep) r.where.push(where);
    if (sample !== undefined && r.samples.length < this.keep) r.samples.push(sample.length > 300 ? sample.slice(0, 300) + '…' : sample);
  }

  get total(): number {
    let n = 0;
    for (const r of this.reasons.values()) n += r.count;
    return n;
  }

  /**
   * One line per reason, most frequent first: `  1,204  invalid JSON (first at a.jsonl:3, a.jsonl:9)`;
   * a folded reason shows its first detail: `invalid JSON (e.g. Unexpected token ...) (first at ...)`;
   * a reason with samples (clean's filters) is followed by the first one: `e.g. "Click here to..."`.
   */
  lines(): string[] {
    return [...this.reasons.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .flatMap(([key, r]) => {
        const line = `${r.count.toLocaleString('en-US').padStart(9)}  ${r.varied ? `${key} (e.g. ${r.first.slice(key.length + 2)}` : r.first} (first at ${r.where.join(', ')})`;
        // what a filter removed, so its threshold can be judged from the summary (one line, escaped)
        return r.samples.length > 0 ? [line, `           e.g. "${quoteUserText(r.samples[0], 100)}"`] : [line];
      });
  }

  toJSON(): Record<string, RejectReason> {
    return Object.fromEntries(this.reasons);
  }
}
