// `minimind tokenizer train | encode | decode`: train a byte-level BPE tokenizer on corpus files,
// or apply one (a folder with tokenizer.json, or the file itself) to text or to jsonl files.
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, numberFlag, parseFlags, requireFlag } from '../args.js';
import { PRESETS, Tokenizer, trainTokenizer, type PresetName } from '../../tokenizer/index.js';
import { readLines } from '../../tokenizer/corpus.js';
import { refuseExisting, writeVia } from '../outputs.js';
import { refuseOverlap } from '../../core/paths.js';

const USAGE = `Usage:
  minimind tokenizer train  --data <file> [--data <file> ...] --vocab-size N --out <dir>
                            [--preset chatml|v1|minimind3] [--special-tokens a,b,c] [--min-frequency N] [--no-progress] [--overwrite]
  minimind tokenizer encode --tokenizer <dir|tokenizer.json> (--text T | --input F.jsonl --output G.jsonl [--overwrite])
  minimind tokenizer decode --tokenizer <dir|tokenizer.json> (--ids '[1,2,3]' | --input G.jsonl --output T.jsonl [--overwrite])
                            [--skip-special-tokens]

train   corpus files: *.jsonl ({"text": ...} or {"conversations": [...]}) or plain text (one sequence per
        line); streamed, so the corpus may be larger than memory. --preset picks the special tokens, their
        ids and the chat template: chatml (default; minimind2: <|endoftext|> <|im_start|> <|im_end|>),
        v1 (<unk> <s> </s>), minimind3 (36 added tokens). Writes tokenizer.json + tokenizer_config.json.
encode  --text prints the ids as a JSON array; --input/--output turns each line {"text": ...} into
        {"ids": [...]}, in order.
decode  --ids prints the text; --input/--output turns each line {"ids": [...]} into {"text": ...}.`;

export async function run(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return;
  }
  if (sub === 'train') return train(rest);
  if (sub === 'encode') return encode(rest);
  if (sub === 'decode') return decode(rest);
  throw new CliError(`unknown tokenizer subcommand '${sub}' (train, encode, decode)\n\n${USAGE}`);
}

function train(argv: string[]): void {
  const p = parseFlags(argv, {
    data: { type: 'string', multiple: true },
    'vocab-size': { type: 'string' },
    out: { type: 'string' },
    preset: { type: 'string' },
    'special-tokens': { type: 'string' },
    'min-frequency': { type: 'string' },
    'no-progress': { type: 'boolean' },
    overwrite: { type: 'boolean' },
  }, USAGE);
  if (!p) return;
  const v = p.values;
  const files = [...((v.data as string[] | undefined) ?? []), ...p.positionals].flatMap((f) => f.split(',')).filter((f) => f !== '');
  if (files.length === 0) throw new CliError(`--data is required\n\n${USAGE}`);
  for (const f of files) if (!existsSync(f)) throw new CliError(`--data: file not found: ${f}`);
  const vocabSize = numberFlag(v, 'vocab-size', NaN);
  if (!Number.isInteger(vocabSize)) throw new CliError(`--vocab-size N is required (an integer, e.g. 6400)`);
  const out = requireFlag(v, 'out', USAGE);
  refuseOverlap(['--out', out], files.map((f) => ['--data', f]));
  if (existsSync(out) && !statSync(out).isDirectory()) throw new CliError(`--out ${out} is a file; give a folder for tokenizer.json and tokenizer_config.json`);
  // A model's tokenizer goes with its weights: replacing it would leave a model no tokenizer fits
  // (the ids mean other tokens), with the one that did gone; --overwrite does not cover that.
  const weights = ['model.safetensors', 'pytorch_model.bin', 'model.safetensors.index.json'].find((f) => existsSync(join(out, f)));
  if (weights) throw new CliError(`--out ${out} is a model folder (${weights}): its weights belong to the tokenizer there, and a new one would not fit them; write the tokenizer to another --out`);
  if (existsSync(join(out, 'tokenizer.json')) && v.overwrite !== true) throw new CliError(`--out ${out} already holds a tokenizer (tokenizer.json); choose another --out, or add --overwrite to replace it`);
  const preset = (v.preset as string | undefined) ?? 'chatml';
  if (!(preset in PRESETS)) throw new CliError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${preset}'`);
  const specialTokens = typeof v['special-tokens'] === 'string' ? v['special-tokens'].split(',').filter((s) => s !== '') : undefined;
  const t0 = Date.now();
  let tok: Tokenizer;
  try {
    tok = trainTokenizer({
      files, vocabSize, preset: preset as PresetName, specialTokens,
      minFrequency: numberFlag(v, 'min-frequency', 0),
      progress: v['no-progress'] !== true && process.stderr.isTTY === true,
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  tok.save(out);
  console.log(`trained ${tok.vocabSize}-token tokenizer (${tok.json.model.merges.length} merges) in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${out}/tokenizer.json, ${out}/tokenizer_config.json`);
}

function loadTokenizer(values: Record<string, unknown>): Tokenizer {
  const path = requireFlag(values, 'tokenizer', USAGE);
  try {
    return Tokenizer.load(path);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/**
 * Maps each jsonl line of input to one output line, in order, streaming both files. The output
 * appears only when every line converted (written under a temporary name, then renamed).
 */
function mapJsonl(input: string, output: string, tokenizer: string, overwrite: boolean, fn: (rec: Record<string, unknown>, where: string) => unknown): number {
  if (!existsSync(input)) throw new CliError(`--input: file not found: ${input}`);
  refuseOverlap(['--output', output], [['--input', input], ['--tokenizer', tokenizer]]);
  refuseExisting('--output', output, overwrite, 'file');
  return writeVia(output, (tmp) => mapJsonlTo(input, tmp, fn));
}

function mapJsonlTo(input: string, output: string, fn: (rec: Record<string, unknown>, where: string) => unknown): number {
  const fd = openSync(output, 'w');
  let buf: string[] = [];
  let size = 0;
  let n = 0;
  try {
    let lineNo = 0;
    for (const line of readLines(input)) {
      lineNo++;
      const where = `${input}:${lineNo}`;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        throw new CliError(`${where}: not valid JSON`);
      }
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new CliError(`${where}: expected a JSON object`);
      const s = JSON.stringify(fn(rec as Record<string, unknown>, where)) + '\n';
      buf.push(s);
      size += s.length;
      n++;
      if (size > 1 << 20) {
        writeSync(fd, buf.join(''));
        buf = [];
        size = 0;
      }
    }
    writeSync(fd, buf.join(''));
  } finally {
    closeSync(fd);
  }
  return n;
}

function encode(argv: string[]): void {
  const p = parseFlags(argv, { tokenizer: { type: 'string' }, text: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' }, overwrite: { type: 'boolean' } }, USAGE);
  if (!p) return;
  const v = p.values;
  const tok = loadTokenizer(v);
  if (typeof v.text === 'string') {
    console.log(JSON.stringify(tok.encode(v.text)));
    return;
  }
  if (typeof v.input !== 'string' || typeof v.output !== 'string') throw new CliError(`encode needs --text, or --input and --output\n\n${USAGE}`);
  const n = mapJsonl(v.input, v.output, v.tokenizer as string, v.overwrite === true, (rec, where) => {
    if (typeof rec.text !== 'string') throw new CliError(`${where}: expected {"text": "..."}`);
    return { ids: tok.encode(rec.text) };
  });
  console.error(`encoded ${n} lines -> ${v.output}`);
}

function decode(argv: string[]): void {
  const p = parseFlags(argv, {
    tokenizer: { type: 'string' }, ids: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' },
    'skip-special-tokens': { type: 'boolean' }, overwrite: { type: 'boolean' },
  }, USAGE);
  if (!p) return;
  const v = p.values;
  const tok = loadTokenizer(v);
  const skipSpecialTokens = v['skip-special-tokens'] === true;
  const checkIds = (ids: unknown, where: string): number[] => {
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0)) throw new CliError(`${where}: ids must be a JSON array of non-negative integers`);
    // The library drops unknown ids (as HF does); here an id outside the vocabulary is a mistake to report.
    const bad = (ids as number[]).find((x) => x >= tok.vocabSize);
    if (bad !== undefined) throw new CliError(`${where}: id ${bad} is outside the vocabulary of ${v.tokenizer} (ids 0 to ${tok.vocabSize - 1})`);
    return ids as number[];
  };
  if (typeof v.ids === 'string') {
    let ids: unknown;
    try {
      ids = JSON.parse(v.ids);
    } catch {
      throw new CliError(`--ids: not valid JSON: ${v.ids}`);
    }
    process.stdout.write(tok.decode(checkIds(ids, '--ids'), { skipSpecialTokens }) + '\n');
    return;
  }
  if (typeof v.input !== 'string' || typeof v.output !== 'string') throw new CliError(`decode needs --ids, or --input and --output\n\n${USAGE}`);
  const n = mapJsonl(v.input, v.output, v.tokenizer as string, v.overwrite === true, (rec, where) => ({ text: tok.decode(checkIds(rec.ids, where), { skipSpecialTokens }) }));
  console.error(`decoded ${n} lines -> ${v.output}`);
}
