// Opens a training dataset from MiniMind's files, tokenizing once into a cache folder:
//   pretrain: .jsonl {"text"} | .csv (column `text`, v1) | .bin (v1 flat uint16 tokens, cut into
//             windows of maxLength; read in place, no cache)
//   sft:      .jsonl {"conversations": [...]} | .csv (v1 `history,q,a`, last answer supervised)
//   dpo:      .jsonl {"chosen": [...], "rejected": [...]} — stored as samples 2i (chosen), 2i+1 (rejected)
// The cache key covers the input files (path, size, mtime), the tokenizer's hash, maxLength
// and every option that changes the tokens; a second run with the same inputs reuses it.
import { closeSync, openSync, readSync, statSync } from '../io/fs.js';
import { extname, join, resolve } from '../io/path.js';
import { UserError } from '../core/errors.js';
import { assertReadableFile, readJsonl } from './jsonl.js';
import { parsePythonLiteral, readCsv } from './csv.js';
import { chatMarkers, countTargets, encodeChat, encodePretrain, EncodedSample, SftMaskMode, toMessages, v1SftMessages } from './encode.js';
import { cacheKey, fileIdentity, SampleSource, TokenStore, TokenStoreMeta, TokenStoreWriter } from './token-cache.js';
import { TokenizerLike } from './tokenizer-like.js';
import { mixSeed, mulberry32 } from './rng.js';
import { quoteUserText } from '../core/errors.js';

export type DatasetKind = 'pretrain' | 'sft' | 'dpo';

export interface DatasetOptions {
  kind: DatasetKind;
  /** One or more data files, read in order. */
  files: string[];
  tokenizer: TokenizerLike;
  /** A hash of the tokenizer files (token-cache.ts hashFiles), part of the cache key. */
  tokenizerKey: string;
  maxLength: number;
  /** Folder that holds cache folders (e.g. <run>/cache). */
  cacheDir: string;
  /** Skip (and count) malformed lines instead of stopping at the first one. */
  skipBadLines?: boolean;
  /** Called for every line skipped (with skipBadLines); without it the log names the first five. */
  onBadLine?: (file: string, line: number, reason: string) => void;
  /** SFT: 'all' assistant turns (default for jsonl) or v1's 'last' answer (default for csv). */
  sftMask?: SftMaskMode;
  dropEmptyThinkRatio?: number;
  systemPromptRatio?: number;
  /** Seed for the augmentations above. */
  seed?: number;
  /** Vocabulary size; ids are cached as uint16 when it is ≤ 65536. */
  vocabSize?: number;
  /**
   * Where tokenizing runs when a cache is built: by default here, with `tokenizer`; Node's worker
   * threads pass corpus/encode-workers.ts workerEncoder. The store is the same byte for byte.
   * Not used with the SFT augmentations above, whose random stream follows record order.
   */
  encode?: RecordsEncoder;
  /** Progress callback while tokenizing: records done so far. */
  onProgress?: (records: number) => void;
  log?: (msg: string) => void;
}

export interface OpenedDataset {
  samples: SampleSource;
  /** Samples per training example: 1, or 2 for DPO (chosen, rejected). */
  group: 1 | 2;
  /** Number of training examples (DPO pairs count once). */
  size: number;
  cacheDir: string | null;
  fromCache: boolean;
  badLines: number;
}

/** A clear error when the sequence length exceeds what the model can position. */
export function checkMaxLength(maxLength: number, maxPositions: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`max length must be an integer ≥ 2, got ${maxLength}`);
  if (maxLength > maxPositions) throw new Error(`max length ${maxLength} is beyond the model's max_position_embeddings (${maxPositions})`);
}

/** v1's flat uint16 token file, cut into windows of maxLength tokens (every token a target). */
export class BinDataset implements SampleSource {
  readonly length: number;
  private readonly fd: number;
  constructor(readonly path: string, readonly maxLength: number) {
    assertReadableFile(path);
    const tokens = Math.floor(statSync(path).size / 2);
    this.length = Math.floor(tokens / maxLength);
    if (this.length === 0) throw new Error(`${path}: ${tokens} tokens is less than one window of ${maxLength}`);
    this.fd = openSync(path, 'r');
  }
  get(i: number): EncodedSample {
    const buf = Buffer.alloc(this.maxLength * 2);
    readSync(this.fd, buf, 0, buf.length, i * this.maxLength * 2);
    const ids = new Int32Array(this.maxLength);
    for (let k = 0; k < this.maxLength; k++) ids[k] = buf.readUInt16LE(2 * k);
    return { ids, mask: null };
  }
  close(): void {
    closeSync(this.fd);
  }
}

/**
 * A folder written by `minimind data tokenize` (a token store): used as it is, after checking that
 * it was tokenized for this stage's kind, with this tokenizer (its fingerprint) and within max length.
 */
function openTokenized(o: DatasetOptions): OpenedDataset {
  const dir = o.files[0];
  const store = new TokenStore(dir);
  const src = (store.meta.source ?? {}) as { kind?: string; tokenizer?: string };
  const fail = (what: string) => {
    store.close();
    throw new UserError(`${dir}: ${what}`);
  };
  if (src.kind !== o.kind) fail(`tokenized for ${src.kind ?? 'an unknown kind'}, not ${o.kind}; run 'minimind data tokenize --kind ${o.kind}' on the jsonl`);
  if (src.tokenizer !== o.tokenizerKey) fail(`tokenized with another tokenizer (fingerprint ${src.tokenizer ?? 'none'}, this run's is ${o.tokenizerKey}); re-run 'minimind data tokenize' with this run's tokenizer`);
  if (store.meta.maxLength > o.maxLength) fail(`tokenized with max length ${store.meta.maxLength}, longer than this run's ${o.maxLength}; pass --max-seq-len ${store.meta.maxLength} or re-tokenize`);
  const group = o.kind === 'dpo' ? 2 : 1;
  o.log?.(`using pre-tokenized ${dir} (${store.meta.count / group} examples, ${store.meta.totalTokens} tokens)`);
  return { samples: store, group, size: store.length / group, cacheDir: dir, fromCache: true, badLines: store.meta.badLines };
}

/** Opens (tokenizing on first use) the dataset described by `o`. */
export async function openDataset(o: DatasetOptions): Promise<OpenedDataset> {
  if (o.files.length === 0) throw new Error('no data files given');
  if (o.files.length === 1 && TokenStore.exists(o.files[0])) return openTokenized(o);
  for (const f of o.files) assertReadableFile(f);
  const exts = o.files.map((f) => extname(f).toLowerCase());
  if (exts.includes('.bin')) {
    if (o.kind !== 'pretrain' || o.files.length !== 1) throw new Error('a token .bin file can only be used alone, for pretraining');
    const ds = new BinDataset(o.files[0], o.maxLength);
    return { samples: ds, group: 1, size: ds.length, cacheDir: null, fromCache: true, badLines: 0 };
  }
  for (let k = 0; k < o.files.length; k++) {
    if (!['.jsonl', '.json', '.csv'].includes(exts[k])) throw new Error(`${o.files[k]}: unsupported data file type '${exts[k]}' (use .jsonl, .csv or a v1 token .bin)`);
    if (exts[k] === '.csv' && o.kind === 'dpo') throw new Error(`${o.files[k]}: DPO data must be jsonl with 'chosen' and 'rejected'`);
  }
  const sftMask: SftMaskMode = o.sftMask ?? (exts.every((e) => e === '.csv') ? 'last' : 'all');
  const seed = o.seed ?? 42;
  const key = cacheKey({
    v: 1,
    kind: o.kind,
    files: o.files.map((f) => fileIdentity(resolve(f))),
    tokenizer: o.tokenizerKey,
    maxLength: o.maxLength,
    sftMask: o.kind === 'pretrain' ? null : sftMask,
    aug: o.kind === 'pretrain' ? null : [o.dropEmptyThinkRatio ?? 0, o.systemPromptRatio ?? 0, seed],
    skipBadLines: !!o.skipBadLines,
  });
  const dir = join(o.cacheDir, `${o.kind}-${key}`);
  const group = o.kind === 'dpo' ? 2 : 1;
  if (TokenStore.exists(dir)) {
    const store = new TokenStore(dir);
    o.log?.(`using tokenized cache ${dir} (${store.meta.count / group} examples, ${store.meta.totalTokens} tokens)`);
    return { samples: store, group, size: store.length / group, cacheDir: dir, fromCache: true, badLines: store.meta.badLines };
  }
  const { meta, badLines } = await buildTokenStore(o, dir);
  return { samples: new TokenStore(dir), group, size: meta.count / group, cacheDir: dir, fromCache: false, badLines };
}

/** One record for a RecordEncoder: its parsed value, or why the reader skipped its line. */
export interface RecordJob {
  file: string;
  line: number;
  csv: boolean;
  value?: Record<string, unknown>;
  /** The reader's reason for a malformed line it skipped (skipBadLines). */
  bad?: string;
}

/** A record's samples, 'empty' (truncation cut off every target), or why it is unusable: `file:line: reason`. */
export type EncodedRecord = { samples: EncodedSample[] } | { empty: true } | { bad: string; file: string; line: number };

/** What encoding depends on besides the tokenizer: plain data, so it can cross to worker threads. */
export interface EncodeSpec {
  kind: DatasetKind;
  maxLength: number;
  sftMask: SftMaskMode;
  dropEmptyThinkRatio?: number;
  systemPromptRatio?: number;
  seed: number;
}

/** Maps the records to their encodings, in record order, a batch at a time (e.g. on worker threads). */
export type RecordsEncoder = (jobs: AsyncIterable<RecordJob>, spec: EncodeSpec) => AsyncIterable<EncodedRecord[]>;

/**
 * The per-record work of buildTokenStore: a batch of records -> their samples. Pure given the
 * tokenizer, except the two SFT augmentations, which draw from one seeded stream in record order.
 */
export function recordEncoder(tok: TokenizerLike, spec: EncodeSpec): (batch: RecordJob[]) => EncodedRecord[] {
  const markers = spec.kind === 'pretrain' ? null : chatMarkers(tok);
  const rand = mulberry32(mixSeed(spec.seed, 0x5f7));
  const chatOpts = { mode: spec.sftMask, dropEmptyThinkRatio: spec.dropEmptyThinkRatio, systemPromptRatio: spec.systemPromptRatio, rand };
  return (batch) =>
    batch.map((job): EncodedRecord => {
      const { file, line } = job;
      if (job.bad !== undefined) return { bad: `${file}:${line}: ${job.bad}`, file, line };
      let samples: EncodedSample[];
      try {
        samples = encodeRecord(tok, spec, job.value!, `${file}:${line}`, job.csv, markers, chatOpts);
      } catch (e) {
        return { bad: (e as Error).message, file, line };
      }
      // A conversation whose answers were all cut off by truncation teaches nothing.
      if (spec.kind !== 'pretrain' && samples.some((s) => countTargets(s) === 0)) return { empty: true };
      return { samples };
    });
}

/** The records of o.files in order, with the lines the reader skipped in their places. */
async function* recordJobs(o: DatasetOptions): AsyncGenerator<RecordJob> {
  for (const file of o.files) {
    const csv = extname(file).toLowerCase() === '.csv';
    const skipped: RecordJob[] = [];
    const onBadLine = (_: string, line: number, bad: string) => skipped.push({ file, line, csv, bad });
    const source = csv ? readCsv(file, { skipBadLines: o.skipBadLines, onBadLine }) : readJsonl(file, { skipBadLines: o.skipBadLines, onBadLine });
    for await (const rec of source) {
      yield* skipped.splice(0);
      yield { file, line: rec.line, csv, value: rec.value as Record<string, unknown> };
    }
    yield* skipped.splice(0);
  }
}

/**
 * Tokenizes o.files into a token store folder at `dir` (written under a temporary name, renamed
 * when complete). Its meta.json records the kind, the files, the mask mode and the tokenizer's
 * fingerprint (o.tokenizerKey), so a pre-tokenized folder can be checked against a run's tokenizer.
 * o.encode runs the encoding elsewhere (worker threads); by default it runs here, with
 * o.tokenizer. Results come back in record order, so the folder is the same either way.
 */
export async function buildTokenStore(o: DatasetOptions, dir: string): Promise<{ meta: TokenStoreMeta; badLines: number }> {
  const exts = o.files.map((f) => extname(f).toLowerCase());
  const spec: EncodeSpec = {
    kind: o.kind,
    maxLength: o.maxLength,
    sftMask: o.sftMask ?? (exts.every((e) => e === '.csv') ? 'last' : 'all'),
    dropEmptyThinkRatio: o.dropEmptyThinkRatio,
    systemPromptRatio: o.systemPromptRatio,
    seed: o.seed ?? 42,
  };
  // The augmentations draw from one random stream in record order: split over threads, each
  // record would get other draws than it gets here, so with them the encoding stays on this thread.
  const augmented = !!(o.dropEmptyThinkRatio || o.systemPromptRatio);
  const encode = augmented ? undefined : o.encode;
  const group = o.kind === 'dpo' ? 2 : 1;
  const dtype = (o.vocabSize ?? 65536) <= 65536 ? 'uint16' : 'int32';
  const writer = new TokenStoreWriter(dir, dtype, o.kind !== 'pretrain');
  let badLines = 0;
  const onBadLine = (file: string, line: number, reason: string) => {
    badLines++;
    if (o.onBadLine) o.onBadLine(file, line, reason);
    else if (badLines <= 5) o.log?.(`skipping ${file}:${line}: ${reason}`);
  };
  const here: RecordsEncoder = async function* (jobs, s) {
    const handle = recordEncoder(o.tokenizer, s);
    for await (const job of jobs) yield handle([job]);
  };
  let records = 0;
  let empty = 0;
  try {
    for await (const results of (encode ?? here)(recordJobs(o), spec)) {
      for (const r of results) {
        if ('bad' in r) {
          if (!o.skipBadLines) throw new Error(r.bad);
          onBadLine(r.file, r.line, r.bad.replace(`${r.file}:${r.line}: `, ''));
        } else if ('empty' in r) empty++;
        else {
          for (const s of r.samples) writer.add(s);
          if (++records % 1000 === 0) o.onProgress?.(records);
        }
      }
    }
  } catch (e) {
    writer.abort();
    throw e;
  }
  if (writer.count === 0) {
    writer.abort();
    const why = badLines ? ` (${badLines} malformed lines skipped)` : empty ? ` (${empty} records had no target tokens within max length ${o.maxLength})` : '';
    throw new Error(`no training samples in ${o.files.join(', ')}${why}`);
  }
  if (badLines && !o.onBadLine) o.log?.(`skipped ${badLines} malformed line(s)`);
  if (empty) o.log?.(`dropped ${empty} record(s) with no target tokens within max length ${o.maxLength}`);
  const meta = writer.finish({ maxLength: o.maxLength, source: { kind: o.kind, files: o.files, sftMask: spec.sftMask, tokenizer: o.tokenizerKey }, badLines });
  o.log?.(`tokenized ${meta.count / group} examples (${meta.totalTokens} tokens) into ${dir}`);
  return { meta, badLines };
}

function field(v: Record<string, unknown>, name: string, where: string): unknown {
  if (!(name in v)) throw new Error(`${where}: missing field '${name}' (fields: ${quoteUserText(Object.keys(v).join(', ')) || 'none'})`);
  return v[name];
}

function encodeRecord(
  tok: TokenizerLike,
  o: EncodeSpec,
  v: Record<string, unknown>,
  where: string,
  csv: boolean,
  markers: ReturnType<typeof chatMarkers> | null,
  chatOpts: Parameters<typeof encodeChat>[4],
): EncodedSample[] {
  if (o.kind === 'pretrain') {
    const text = field(v, 'text', where);
    if (typeof text !== 'string') throw new Error(`${where}: 'text' must be a string`);
    return [encodePretrain(tok, text, o.maxLength)];
  }
  if (o.kind === 'sft') {
    if (csv) {
      const histText = String(field(v, 'history', where) ?? '').trim();
      let history: unknown = [];
      if (histText !== '') {
        try {
          history = parsePythonLiteral(histText);
        } catch (e) {
          throw new Error(`${where}: bad 'history' cell: ${(e as Error).message}`);
        }
      }
      const msgs = v1SftMessages(history, String(field(v, 'q', where)), String(field(v, 'a', where)), o.maxLength);
      return [encodeChat(tok, msgs, o.maxLength, markers!, chatOpts)];
    }
    return [encodeChat(tok, toMessages(field(v, 'conversations', where), where), o.maxLength, markers!, chatOpts)];
  }
  const chosen = toMessages(field(v, 'chosen', where), `${where} (chosen)`);
  const rejected = toMessages(field(v, 'rejected', where), `${where} (rejected)`);
  return [encodeChat(tok, chosen, o.maxLength, markers!, chatOpts), encodeChat(tok, rejected, o.maxLength, markers!, chatOpts)];
}
