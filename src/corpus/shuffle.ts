// A seeded shuffle of more rows than fit in memory: rows are spread over temporary bucket files
// at random, then each bucket is read, shuffled in memory and appended to the output. With
// buckets of ~64 MB the memory stays bounded whatever the corpus size; the same seed gives the
// same order.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { mixSeed, mulberry32 } from '../data/rng.js';
import type { JsonlWriter } from './writer.js';
import { trackTemp } from '../core/temp-paths.js';

export class ExternalShuffle {
  private readonly dir: string;
  private readonly untrack: () => void; // removed on Ctrl-C too (core/temp-paths.ts)
  private readonly fds: number[];
  private readonly bufs: string[][];
  private readonly rand: () => number;
  rows = 0;

  /** `bytes`: an estimate of the total size, to choose the number of buckets; `near`: a path whose folder holds the temporary files. */
  constructor(bytes: number, private readonly seed: number, near: string, bucketBytes = 64 << 20) {
    const buckets = Math.max(1, Math.ceil(bytes / bucketBytes));
    this.dir = mkdtempSync(join(dirname(resolve(near)), '.minimind-shuffle-'));
    this.untrack = trackTemp(this.dir);
    this.fds = Array.from({ length: buckets }, (_, b) => openSync(join(this.dir, `${b}.jsonl`), 'w'));
    this.bufs = this.fds.map(() => []);
    this.rand = mulberry32(mixSeed(seed, 1));
  }

  add(line: string): void {
    const b = Math.floor(this.rand() * this.fds.length);
    this.bufs[b].push(line);
    if (this.bufs[b].length >= 4096) this.flush(b);
    this.rows++;
  }

  private flush(b: number): void {
    if (this.bufs[b].length === 0) return;
    writeSync(this.fds[b], this.bufs[b].join('\n') + '\n');
    this.bufs[b] = [];
  }

  /** Writes every row, shuffled, to `out`, and removes the temporary files. */
  drainTo(out: JsonlWriter): void {
    try {
      for (let b = 0; b < this.fds.length; b++) {
        this.flush(b);
        closeSync(this.fds[b]);
      }
      for (let b = 0; b < this.fds.length; b++) {
        const lines = readFileSync(join(this.dir, `${b}.jsonl`), 'utf8').split('\n');
        lines.pop();
        const rand = mulberry32(mixSeed(this.seed, 2 + b));
        for (let i = lines.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [lines[i], lines[j]] = [lines[j], lines[i]];
        }
        for (const l of lines) out.writeLine(l);
      }
    } finally {
      this.dispose();
    }
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.untrack();
  }
}
