// metrics.jsonl: one JSON object per logged step ({step, epoch, loss, lr, ...}) appended as
// training goes, so a run can be plotted while it runs and after it crashes. On resume, records
// past the resumed step are dropped so the file reads like one uninterrupted run.
import { appendFileSync, existsSync, readFileSync } from '../io/fs.js';
import { writeFileAtomic } from './atomic.js';

export interface MetricRecord {
  step: number;
  [key: string]: number | string | null;
}

export class MetricsWriter {
  readonly records: MetricRecord[] = [];

  constructor(readonly path: string, resumeFromStep?: number) {
    if (resumeFromStep !== undefined && existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const r = JSON.parse(line) as MetricRecord;
          if (r.step <= resumeFromStep) this.records.push(r);
        } catch {
          /* a line cut by a crash */
        }
      }
      writeFileAtomic(path, this.records.map((r) => JSON.stringify(r) + '\n').join(''));
    } else writeFileAtomic(path, '');
  }

  write(r: MetricRecord): void {
    this.records.push(r);
    appendFileSync(this.path, JSON.stringify(r) + '\n');
  }
}
