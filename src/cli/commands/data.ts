// `minimind data stats | convert | clean | dedup | mix | split | tokenize`: flags -> the library
// calls in src/corpus. Each prints a summary (rows in, rows out, a count per rejection reason with
// its first places) and never writes over one of its inputs.
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError, numberFlag, parseFlags, requireFlag, type FlagSpec } from '../args.js';
import { refuseExisting, removeTempsOnSignal } from '../outputs.js';
import { makeFolder, refuseOverlap, type MadeFolder } from '../../core/paths.js';
import { Progress } from '../progress.js';
import type { ByteProgress } from '../../corpus/records.js';
import type { Rejects } from '../../corpus/rejects.js';

const USAGE = `Usage: minimind data <command> FILE... [options]

Commands (inputs: .jsonl, .json, .csv, .parquet, .txt; streamed, so larger than memory is fine):
  stats    FILE... [--tokenizer DIR] [--max-seq-len N] [--html OUT.html] [--json] [--threads N]
           rows, characters, tokens, length histograms, rows over --max-seq-len, script mix,
           exact-duplicate rate, fields and record formats found
  convert  FILE... --to pretrain|sft|dpo|rlaif --output OUT.jsonl [--text-field NAME]
           ShareGPT, Alpaca, OpenAI messages, LLaMA-Factory, MiniMind v1 csv, parquet -> MiniMind jsonl
  clean    FILE... --output OUT.jsonl [--gopher] [--c4] [--min-chars N] [--max-chars N] [--rejected FILE]
           Unicode / control / HTML repairs, length bounds, Gopher and C4 quality filters (datatrove's defaults)
  dedup    FILE... --output OUT.jsonl [--exact-only | --near-only] [--ngram 5] [--bands 14] [--rows 8] [--unit word|char]
           exact (normalised hash) and near (MinHash + LSH, datatrove's defaults) duplicates; first of each cluster kept
  mix      --source A.jsonl:0.7 --source B.jsonl:0.3 --output OUT.jsonl [--rows N | --tokens N --tokenizer DIR] [--seed 42]
  split    FILE... --train TRAIN.jsonl --val VAL.jsonl [--val-fraction 0.01 | --val-rows N] [--seed 42]
  tokenize FILE... --tokenizer DIR --kind pretrain|sft|dpo --max-seq-len N --output DIR [--threads N]
           pre-tokenized folder that pretrain / sft / dpo read as --data DIR (checked against their tokenizer)

Common options: --output FILE (never one of the inputs), --overwrite (replace an existing output),
--no-progress. Rows that cannot be read or do not fit are skipped and counted by reason, with their
file:line.

Run 'minimind data <command> --help' for one command's options.`;

type Values = Record<string, string | number | boolean | string[] | undefined>;

export async function run(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return;
  }
  const cmd = COMMANDS[sub];
  if (!cmd) throw new CliError(`unknown data command '${sub}' (${Object.keys(COMMANDS).join(', ')})\n\n${USAGE}`);
  const p = parseFlags(rest, { ...cmd.flags, 'no-progress': { type: 'boolean' }, overwrite: { type: 'boolean' } }, cmd.usage);
  if (!p) return;
  if (p.positionals.length === 0 && sub !== 'mix') throw new CliError(`give at least one input file\n\n${cmd.usage}`);
  const restore = removeTempsOnSignal(); // Ctrl-C leaves no half-written output or temporary file
  try {
    await cmd.run(p.positionals, p.values);
  } catch (e) {
    for (const f of madeFolders.splice(0)) f.remove(); // a failed command leaves no folder it made
    throw e;
  } finally {
    restore();
  }
}

/** The folders makeParent made (a/b/ and a/ for a/b/out.jsonl when a/ was missing). */
const madeFolders: MadeFolder[] = [];

/** Makes the folder an output goes into, remembering what it made so that a failure removes it again. */
function makeParent(path: string): void {
  const made = makeFolder(dirname(resolve(path)));
  if (made) madeFolders.push(made);
}

interface DataCommand {
  usage: string;
  flags: FlagSpec;
  run: (inputs: string[], v: Values) => Promise<void>;
}

/** A progress bar over the input bytes (MB), drawn on stderr. */
export function byteProgress(label: string, v: Values): { onProgress?: ByteProgress; finish: () => void } {
  if (v['no-progress'] === true) return { finish: () => {} };
  let bar: Progress | null = null;
  let last = -1;
  return {
    onProgress: (done, total) => {
      bar ??= new Progress(`${label} (MB)`, Math.max(1, Math.ceil(total / 1e6)), { logEvery: 100 });
      const mb = Math.min(Math.ceil(done / 1e6), bar.total);
      if (mb !== last) bar.update(mb, 0);
      last = mb;
    },
    finish: () => bar?.finish(),
  };
}

/**
 * The output path, after refusing one that is an input, that exists without --overwrite, or that
 * is a folder where a file is written (every output but tokenize's, which is a folder).
 */
export function outputFlag(v: Values, inputs: (string | [flag: string, path: string])[], usage: string, flag = 'output', kind: 'file' | 'any' = 'file'): string {
  const out = requireFlag(v, flag, usage);
  refuseOverlap([`--${flag}`, out], inputs.map((i): [string, string] => (typeof i === 'string' ? ['input', i] : i)));
  refuseExisting(`--${flag}`, out, v.overwrite === true, kind);
  makeParent(out);
  return out;
}

export function printRejects(what: string, r: Rejects): void {
  if (r.total === 0) return;
  console.log(`${what}: ${r.total.toLocaleString('en-US')} rows`);
  for (const line of r.lines()) console.log(line);
}

const STATS_USAGE = `Usage: minimind data stats FILE... [--tokenizer DIR] [--max-seq-len N] [--field NAME] [--html OUT.html] [--json] [--threads N]

One pass over the files: rows, MB and characters, tokens with --tokenizer (what training sees:
bos + text + eos, or the chat template) and with it the rows over --max-seq-len [512], length
histograms with p50/p90/p99, the script mix (rows by the script of most of their letters), the rate of
exact duplicates (after NFKC, lower case, whitespace folding), the fields and record formats found.
--html writes the same as a page with charts; --json prints it as JSON. --threads N: worker threads
that measure the rows [cores - 1]; the numbers are the same for any N.`;

const CONVERT_USAGE = `Usage: minimind data convert FILE... --to pretrain|sft|dpo|rlaif --output OUT.jsonl [--text-field NAME] [--overwrite]

Reads MiniMind jsonl, ShareGPT ({conversations|messages: [{from, value}]}, system, tools),
OpenAI ({messages: [{role, content, tool_calls}]}, tools), Alpaca / LLaMA-Factory ({instruction, input, output,
system, history}; DPO: {conversations|instruction, chosen, rejected}), MiniMind v1 csv (history,q,a)
and text ({text}, or --text-field a,b,c: those fields as lines of one text, a list of strings as
lines), from jsonl, json, csv, parquet or txt, and writes MiniMind's
schema for the stage (tool use as MiniMind writes it: the tools as a JSON string on the system
message, a function_call turn as an assistant's tool_calls, an observation as a tool message):
  pretrain {"text"}   sft {"conversations"}   dpo {"chosen", "rejected"}
  rlaif {"conversations": [...prompt, {"role": "assistant", "content": "无"}]}
Rows that do not fit are skipped and counted by reason.`;

const CLEAN_USAGE = `Usage: minimind data clean FILE... --output OUT.jsonl [options]

Repairs every text (CRLF -> LF, control and zero-width characters removed, HTML tags and entities
stripped, Unicode NFC), drops rows outside the length bounds, then applies the quality filters you
name, in FineWeb's order, with datatrove's default thresholds:
  --gopher            Gopher repetition (duplicate lines / paragraphs / n-grams) and Gopher quality
                      (word count 50-100k, mean word length 3-10, symbol ratios, bullets, ellipses,
                      80% words with a letter, 2+ English stop words) — English web text
  --gopher-repetition / --gopher-quality   one of the two
  --c4                C4 line rules (terminal punctuation, 3+ words, no javascript / cookie lines) and
                      document rules (no lorem ipsum or '{', 5+ sentences); keeps only the good lines
  --min-chars N [1]   --max-chars N [none]
  --form NFC|NFKC|none [NFC]   --no-html (keep tags)   --field NAME (only this field)
  --rejected FILE     also write every dropped row with its reason
  --threads N         worker threads [cores - 1]
Prints kept / dropped counts, one line per reason with its first places.`;

const DEDUP_USAGE = `Usage: minimind data dedup FILE... --output OUT.jsonl [options]

Removes exact duplicates (the same text after NFKC, lower case and whitespace folding) and near
duplicates: MinHash over shingles of the simplified text (lower case, digits as 0, no punctuation
or accents), LSH over bands of the signature; rows that share a band are one cluster (joined
transitively), and the first row of each cluster is kept. Defaults are datatrove's:
  --ngram 5       words (or characters) per shingle
  --bands 14      LSH bands      --rows 8   hashes per band (similarity ~0.72 is the 50% point;
                                            a pair at 0.8 is found with probability 0.92)
  --seed 1        --unit word|char [word]   char: characters without spaces, for Chinese or
                                            other unspaced text
  --exact-only / --near-only   --field NAME (only this field's text)
  --removed FILE  also write each removed row with the place of the row it duplicates
  --threads N     worker threads for the signatures [cores - 1]`;

const MIX_USAGE = `Usage: minimind data mix --source FILE[:WEIGHT] ... --output OUT.jsonl [options]

Mixes sources into one shuffled file. Each source gets its weight's share (default 1) of:
  --rows N                   the output rows (default: as many as possible without repeating a row)
  --tokens N --tokenizer DIR a token budget (rows counted as training sees them)
A source asked for more than it has is repeated (whole passes, then a random part). Sources must hold
rows of one kind (pretrain text, conversations or preference pairs). The shuffle
spills to temporary files beside the output, so memory stays bounded. --seed 42 fixes the order.`;

const SPLIT_USAGE = `Usage: minimind data split FILE... --train TRAIN.jsonl --val VAL.jsonl [--val-fraction 0.01 | --val-rows N] [--seed 42]

Sends each row to the validation file with probability --val-fraction [0.01], or picks exactly
--val-rows N rows (a seeded sample); the rest go to the train file, in their order.`;

const TOKENIZE_USAGE = `Usage: minimind data tokenize FILE... --tokenizer DIR --kind pretrain|sft|dpo --max-seq-len N --output DIR [--threads N] [--overwrite]

Tokenizes MiniMind jsonl (or v1 csv) once, exactly as the stage would (bos/eos, chat template,
loss masks, truncation at --max-seq-len), into a folder of binary shards (ids.bin, mask.bin,
offsets.bin, meta.json with the tokenizer's fingerprint). Train on it with --data DIR: the stage
reads it in place and refuses it when its tokenizer, kind or a shorter --max-seq-len differ.
--threads N: worker threads that encode [cores - 1]; the folder is byte for byte the same for any N.
--overwrite replaces a folder tokenize made earlier, never another folder (it is replaced whole).`;

const COMMANDS: Record<string, DataCommand> = {
  stats: {
    usage: STATS_USAGE,
    flags: { tokenizer: { type: 'string' }, 'max-seq-len': { type: 'string' }, html: { type: 'string' }, json: { type: 'boolean' }, field: { type: 'string' }, threads: { type: 'string' } },
    async run(inputs, v) {
      const { corpusStats, formatStats } = await import('../../corpus/stats.js');
      const { openTokenizer } = await import('../../corpus/tokenizer.js');
      const html = typeof v.html === 'string' ? v.html : undefined;
      if (html !== undefined) {
        refuseOverlap(['--html', html], [...inputs.map((i): [string, string] => ['input', i]), ['--tokenizer', typeof v.tokenizer === 'string' ? v.tokenizer : undefined]]);
        refuseExisting('--html', html, v.overwrite === true, 'file');
        makeParent(html);
      }
      const tokenizer = typeof v.tokenizer === 'string' ? openTokenizer(v.tokenizer) : undefined;
      if (v['max-seq-len'] !== undefined && tokenizer === undefined) throw new CliError('--max-seq-len counts rows by their tokens: give --tokenizer DIR too');
      const maxSeqLen = positiveInt(v, 'max-seq-len', 512);
      if (maxSeqLen < 1) throw new CliError('--max-seq-len must be at least 1');
      const bar = byteProgress('stats', v);
      const s = await corpusStats({ inputs, tokenizer, maxSeqLen, field: v.field as string | undefined, threads: positiveInt(v, 'threads', 0) || undefined, onProgress: bar.onProgress });
      bar.finish();
      if (v.json === true) console.log(JSON.stringify({ ...s, rejects: s.rejects.toJSON() }, null, 2));
      else console.log(formatStats(s));
      if (html !== undefined) {
        const { statsHtml } = await import('../../corpus/stats-html.js');
        writeFileSync(html, statsHtml(s));
        if (v.json !== true) console.log(`report: ${html}`);
      }
    },
  },
  convert: {
    usage: CONVERT_USAGE,
    flags: { to: { type: 'string' }, output: { type: 'string' }, 'text-field': { type: 'string' } },
    async run(inputs, v) {
      const { convert, TARGETS } = await import('../../corpus/convert.js');
      const to = requireFlag(v, 'to', CONVERT_USAGE);
      if (!(TARGETS as string[]).includes(to)) throw new CliError(`--to must be one of ${TARGETS.join(', ')}, got '${to}'`);
      const output = outputFlag(v, inputs, CONVERT_USAGE);
      const bar = byteProgress('convert', v);
      const s = await convert({ inputs, output, to: to as 'sft', textField: v['text-field'] as string | undefined, onProgress: bar.onProgress });
      bar.finish();
      console.log(`converted ${s.written.toLocaleString('en-US')} of ${s.rows.toLocaleString('en-US')} rows to ${to} -> ${output} (formats: ${Object.entries(s.formats).map(([k, n]) => `${k} ${n}`).join(', ')})`);
      printRejects('skipped', s.rejects);
    },
  },
  clean: {
    usage: CLEAN_USAGE,
    flags: {
      output: { type: 'string' }, gopher: { type: 'boolean' }, 'gopher-repetition': { type: 'boolean' }, 'gopher-quality': { type: 'boolean' }, c4: { type: 'boolean' },
      'min-chars': { type: 'string' }, 'max-chars': { type: 'string' }, form: { type: 'string' }, 'no-html': { type: 'boolean' }, field: { type: 'string' }, rejected: { type: 'string' }, threads: { type: 'string' },
    },
    async run(inputs, v) {
      const { clean } = await import('../../corpus/clean.js');
      const output = outputFlag(v, inputs, CLEAN_USAGE);
      const rejected = typeof v.rejected === 'string' ? outputFlag(v, [...inputs, ['--output', output] as [string, string]], CLEAN_USAGE, 'rejected') : undefined;
      const form = (v.form as string | undefined) ?? 'NFC';
      if (!['NFC', 'NFKC', 'none'].includes(form)) throw new CliError(`--form must be NFC, NFKC or none, got '${form}'`);
      const filters: ('gopher-repetition' | 'gopher-quality' | 'c4')[] = [];
      if (v.gopher === true || v['gopher-repetition'] === true) filters.push('gopher-repetition');
      if (v.gopher === true || v['gopher-quality'] === true) filters.push('gopher-quality');
      if (v.c4 === true) filters.push('c4');
      const bar = byteProgress('clean', v);
      const s = await clean({
        inputs, output, rejected, filters, field: v.field as string | undefined,
        normalize: { form: form as 'NFC', html: v['no-html'] !== true },
        minChars: positiveInt(v, 'min-chars', 1), maxChars: positiveInt(v, 'max-chars', Infinity),
        threads: positiveInt(v, 'threads', 0) || undefined, onProgress: bar.onProgress,
      });
      bar.finish();
      console.log(`kept ${s.kept.toLocaleString('en-US')} of ${s.rows.toLocaleString('en-US')} rows -> ${output} (${(s.inputBytes / 1e6 / Math.max(s.seconds, 1e-3)).toFixed(2)} MB/s)`);
      printRejects('dropped', s.dropped);
      printRejects('unreadable', s.unreadable);
    },
  },
  dedup: {
    usage: DEDUP_USAGE,
    flags: {
      output: { type: 'string' }, 'exact-only': { type: 'boolean' }, 'near-only': { type: 'boolean' }, ngram: { type: 'string' }, bands: { type: 'string' }, rows: { type: 'string' },
      seed: { type: 'string' }, unit: { type: 'string' }, field: { type: 'string' }, removed: { type: 'string' }, threads: { type: 'string' },
    },
    async run(inputs, v) {
      const { dedup } = await import('../../corpus/dedup.js');
      const output = outputFlag(v, inputs, DEDUP_USAGE);
      const removed = typeof v.removed === 'string' ? outputFlag(v, [...inputs, ['--output', output] as [string, string]], DEDUP_USAGE, 'removed') : undefined;
      if (v['exact-only'] === true && v['near-only'] === true) throw new CliError('--exact-only and --near-only exclude each other; give at most one');
      const unit = (v.unit as string | undefined) ?? 'word';
      if (unit !== 'word' && unit !== 'char') throw new CliError(`--unit must be word or char, got '${unit}'`);
      const atLeast1 = (name: string, d: number) => {
        const n = positiveInt(v, name, d);
        if (n < 1) throw new CliError(`--${name} must be at least 1`);
        return n;
      };
      const near = v['exact-only'] === true ? false : { ngram: atLeast1('ngram', 5), bands: atLeast1('bands', 14), rows: atLeast1('rows', 8), seed: positiveInt(v, 'seed', 1), unit: unit as 'word' };
      const bar = byteProgress('dedup', v);
      const s = await dedup({ inputs, output, removed, exact: v['near-only'] !== true, near, field: v.field as string | undefined, threads: positiveInt(v, 'threads', 0) || undefined, onProgress: bar.onProgress });
      bar.finish();
      console.log(`kept ${s.kept.toLocaleString('en-US')} of ${s.rows.toLocaleString('en-US')} rows -> ${output}: removed ${s.exactDuplicates} exact and ${s.nearDuplicates} near duplicates in ${s.clusters} clusters (${(s.inputBytes / 1e6 / Math.max(s.seconds, 1e-3)).toFixed(2)} MB/s)`);
      printRejects('unreadable', s.unreadable);
    },
  },
  mix: {
    usage: MIX_USAGE,
    flags: { source: { type: 'string', multiple: true }, output: { type: 'string' }, rows: { type: 'string' }, tokens: { type: 'string' }, tokenizer: { type: 'string' }, seed: { type: 'string' } },
    async run(positionals, v) {
      const { mix, parseSource } = await import('../../corpus/mix.js');
      const { openTokenizer } = await import('../../corpus/tokenizer.js');
      const sources = [...((v.source as string[] | undefined) ?? []), ...positionals].map(parseSource);
      if (sources.length === 0) throw new CliError(`give at least one --source FILE[:WEIGHT]\n\n${MIX_USAGE}`);
      const output = outputFlag(v, [...sources.map((s) => s.path), ...(typeof v.tokenizer === 'string' ? [['--tokenizer', v.tokenizer] as [string, string]] : [])], MIX_USAGE);
      if (v.rows !== undefined && v.tokens !== undefined) throw new CliError('--rows and --tokens exclude each other; give one');
      const tokenizer = typeof v.tokenizer === 'string' ? openTokenizer(v.tokenizer) : undefined;
      const bar = byteProgress('mix', v);
      const s = await mix({ sources, output, rows: v.rows !== undefined ? positiveInt(v, 'rows', 0) : undefined, tokens: v.tokens !== undefined ? positiveInt(v, 'tokens', 0) : undefined, tokenizer, seed: positiveInt(v, 'seed', 42), onProgress: bar.onProgress });
      bar.finish();
      console.log(`mixed ${s.rows.toLocaleString('en-US')} rows -> ${output}`);
      for (const x of s.sources) console.log(`  ${x.path}: ${x.taken} of ${x.available} rows${x.tokens !== undefined ? `, ${x.tokens} tokens` : ''}${x.repeated > 1 ? ` (repeated up to ${x.repeated}x)` : ''}`);
      printRejects('unreadable', s.unreadable);
    },
  },
  split: {
    usage: SPLIT_USAGE,
    flags: { train: { type: 'string' }, val: { type: 'string' }, 'val-fraction': { type: 'string' }, 'val-rows': { type: 'string' }, seed: { type: 'string' } },
    async run(inputs, v) {
      const { split } = await import('../../corpus/split.js');
      const train = outputFlag(v, inputs, SPLIT_USAGE, 'train');
      const val = outputFlag(v, [...inputs, ['--train', train] as [string, string]], SPLIT_USAGE, 'val');
      if (v['val-fraction'] !== undefined && v['val-rows'] !== undefined) throw new CliError('--val-fraction and --val-rows exclude each other; give one');
      const valFraction = numberFlag(v, 'val-fraction', 0.01);
      if (!(valFraction >= 0 && valFraction <= 1)) throw new CliError(`--val-fraction must be between 0 and 1, got ${valFraction}`);
      const bar = byteProgress('split', v);
      const s = await split({ inputs, train, val, valFraction, valRows: v['val-rows'] !== undefined ? positiveInt(v, 'val-rows', 0) : undefined, seed: positiveInt(v, 'seed', 42), onProgress: bar.onProgress });
      bar.finish();
      console.log(`train ${s.train.toLocaleString('en-US')} rows -> ${train}, validation ${s.val.toLocaleString('en-US')} rows -> ${val}`);
      printRejects('unreadable', s.unreadable);
    },
  },
  tokenize: {
    usage: TOKENIZE_USAGE,
    flags: { tokenizer: { type: 'string' }, kind: { type: 'string' }, 'max-seq-len': { type: 'string' }, output: { type: 'string' }, threads: { type: 'string' } },
    async run(inputs, v) {
      const { tokenize } = await import('../../corpus/tokenize.js');
      const { openTokenizer } = await import('../../corpus/tokenizer.js');
      const kind = requireFlag(v, 'kind', TOKENIZE_USAGE);
      if (!['pretrain', 'sft', 'dpo'].includes(kind)) throw new CliError(`--kind must be pretrain, sft or dpo, got '${kind}'`);
      const tokenizer = openTokenizer(requireFlag(v, 'tokenizer', TOKENIZE_USAGE));
      requireFlag(v, 'max-seq-len', TOKENIZE_USAGE);
      const maxSeqLen = positiveInt(v, 'max-seq-len', NaN);
      const output = outputFlag(v, [...inputs, ['--tokenizer', tokenizer.dir] as [string, string]], TOKENIZE_USAGE, 'output', 'any');
      const tty = v['no-progress'] !== true && process.stderr.isTTY;
      const threads = positiveInt(v, 'threads', 0) || undefined;
      const s = await tokenize({ inputs, output, kind: kind as 'sft', tokenizer, maxSeqLen, threads, onProgress: tty ? (n) => process.stderr.write(`\rtokenize: ${n.toLocaleString('en-US')} records`) : undefined, log: (m) => console.error(m) });
      if (tty) process.stderr.write('\n');
      const group = kind === 'dpo' ? 2 : 1;
      console.log(`tokenized ${(s.meta.count / group).toLocaleString('en-US')} examples, ${s.meta.totalTokens.toLocaleString('en-US')} tokens (${s.meta.dtype}) in ${s.seconds.toFixed(1)} s -> ${output} (tokenizer fingerprint ${tokenizer.fingerprint})`);
      printRejects('skipped', s.rejects);
    },
  },
};

/** A non-negative integer flag. */
function positiveInt(v: Values, name: string, fallback: number): number {
  const n = numberFlag(v, name, fallback);
  if (n !== Infinity && (!Number.isInteger(n) || n < 0)) throw new CliError(`--${name} must be a whole number >= 0, got '${String(v[name])}'`);
  return n;
}
