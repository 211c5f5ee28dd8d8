// `minimind data split`: one file into train and validation files, streaming. --val-rows N picks
// exactly N rows (a seeded sample of row numbers after a counting pass); --val F sends each row to
// validation with probability F (one pass). The same seed gives the same split.
import { Rejects } from './rejects.js';
import { ByteProgress, readInputs } from './records.js';
import { withWriters } from './writer.js';
import { mixSeed, mulberry32, permutation } from '../data/rng.js';
import { UserError } from '../core/errors.js';

export interface SplitOptions {
  inputs: string[];
  train: string;
  val: string;
  /** Share of rows for validation (0..1). */
  valFraction?: number;
  /** Exactly this many validation rows. */
  valRows?: number;
  seed?: number;
  onProgress?: ByteProgress;
}

export async function split(o: SplitOptions): Promise<{ train: number; val: number; unreadable: Rejects }> {
  const seed = o.seed ?? 42;
  const unreadable = new Rejects();
  let isVal: (i: number) => boolean;
  if (o.valRows !== undefined) {
    let n = 0;
    for await (const _ of readInputs(o.inputs, new Rejects())) n++;
    if (o.valRows > n) throw new UserError(`--val-rows ${o.valRows} is more than the ${n} rows of the input`);
    const chosen = new Uint8Array(n);
    const perm = permutation(n, mixSeed(seed, 3));
    for (let k = 0; k < o.valRows; k++) chosen[perm[k]] = 1;
    isVal = (i) => chosen[i] === 1;
  } else {
    const f = o.valFraction ?? 0.01;
    const rand = mulberry32(mixSeed(seed, 3));
    isVal = () => rand() < f;
  }
  return withWriters([o.train, o.val], async ([train, val]) => {
    let i = 0;
    for await (const r of readInputs(o.inputs, unreadable, o.onProgress)) {
      const w = isVal(i++) ? val : train;
      if (r.raw !== undefined) w.writeLine(r.raw);
      else w.write(r.value);
    }
    return { train: train.rows, val: val.rows, unreadable };
  });
}
