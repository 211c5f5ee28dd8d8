// What a run leaves for people to read while it trains: metrics.jsonl (one JSON object per logged
// step, {step, epoch, loss, lr, ...}, appended as training goes, so a run can be plotted while it
// runs and after it crashes), report.html (re-written atomically at every record, see report.ts)
// and the caller's onProgress after every step. It never writes to a stream itself: messages go to
// the caller's `log`, the progress bar is the command's (cli/stage.ts). On resume, records past the
// resumed step are dropped so the file reads like one uninterrupted run.
import { appendFileSync, existsSync, readFileSync } from '../io/fs.js';
import { join } from '../io/path.js';
import { writeFileAtomic } from './atomic.js';
import { writeReport, type MetricRecord } from './report.js';

export type { MetricRecord };

/** What the loop reports after every step (for a progress bar or a dashboard). */
export interface StepReport {
  stage: string;
  /** Steps done, 1-based, counted over the whole run (a resumed run starts past 1). */
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Tokens in this step's batches (or rollouts). */
  tokens: number;
  /** The latest held-out loss, when there is held-out data and it has been measured. */
  evalLoss: number | null;
  /** Stage-specific numbers (ce_loss, aux_loss, distill_loss, reward_acc, reward, kl, ...). */
  logs: Record<string, number>;
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

/** A run's metrics, report and progress callbacks; `lead` false (data-parallel ranks other than 0) records nothing. */
export class RunLog {
  private readonly metrics: MetricsWriter | null;

  constructor(
    private readonly outDir: string,
    private readonly title: string,
    private readonly info: Record<string, unknown>,
    private readonly opts: { lead: boolean; resumeFromStep?: number; onProgress?: (r: StepReport) => void; log?: (message: string) => void },
  ) {
    this.metrics = opts.lead ? new MetricsWriter(join(outDir, 'metrics.jsonl'), opts.resumeFromStep) : null;
  }

  get records(): MetricRecord[] {
    return this.metrics?.records ?? [];
  }

  /** Appends a record to metrics.jsonl and redraws report.html. */
  record(r: MetricRecord): void {
    if (!this.metrics) return;
    this.metrics.write(r);
    this.writeReport();
  }

  progress(r: StepReport): void {
    if (this.opts.lead) this.opts.onProgress?.(r);
  }

  say(message: string): void {
    if (this.opts.lead) this.opts.log?.(message);
  }

  writeReport(): void {
    if (this.metrics) writeReport(this.outDir, this.title, this.metrics.records, this.info);
  }
}
