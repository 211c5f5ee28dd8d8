// A tally of rows a command set aside, one count per reason with the first few places
// (file:line) as examples, so a summary can say "3,112 rows: invalid JSON (first at a.jsonl:17)"
// instead of a stack trace or one line per row.
export interface RejectReason {
  count: number;
  /** The first few `file:line` places, in reading order. */
  where: string[];
  /** The first few rejected texts (clean keeps a sample of what each filter removed). */
  samples: string[];
}

export class Rejects {
  readonly reasons = new Map<string, RejectReason>();

  constructor(readonly keep = 3) {}

  add(reason: string, where: string, sample?: string): void {
    let r = this.reasons.get(reason);
    if (!r) this.reasons.set(reason, (r = { count: 0, where: [], samples: [] }));
    r.count++;
    if (r.where.length < this.keep) r.where.push(where);
    if (sample !== undefined && r.samples.length < this.keep) r.samples.push(sample.length > 300 ? sample.slice(0, 300) + '…' : sample);
  }

  get total(): number {
    let n = 0;
    for (const r of this.reasons.values()) n += r.count;
    return n;
  }

  /** One line per reason, most frequent first: `  1,204  invalid JSON (first at a.jsonl:3, a.jsonl:9)`. */
  lines(): string[] {
    return [...this.reasons.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .map(([reason, r]) => `${r.count.toLocaleString('en-US').padStart(9)}  ${reason} (first at ${r.where.join(', ')})`);
  }

  toJSON(): Record<string, RejectReason> {
    return Object.fromEntries(this.reasons);
  }
}
