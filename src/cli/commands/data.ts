// `minimind data stats | convert | clean | dedup | mix | split | tokenize`: flags -> the library
// calls in src/corpus. Each prints a summary (rows in, rows out, a count per rejection reason with
// its first places) and never writes over one of its inputs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError, numberFlag, parseFlags, requireFlag, type FlagSpec } from '../args.js';
import { refuseExisting, refuseSamePath } from '../outputs.js';
import { Progress } from '../../train/progress.js';
import type { ByteProgress } from '../../corpus/records.js';
import type { Rejects } from '../../corpus/rejects.js';

const USAGE = `Usage: minimind data <command> FILE... [options]

Commands (inputs: .jsonl, .json, .csv, .parquet, .txt; streamed, so larger than memory is fine):
  stats    FILE... [--tokenizer DIR] [--max-seq-len N] [--html OUT.html] [--json]
           rows, characters, tokens, length histograms, rows over --max-seq-len, script mix,
           exact-duplicate rate, fields and record formats found
  convert  FILE... --to pretrain|sft|dpo|rlaif --output OUT.jsonl [--text-field NAME]
           ShareGPT, Alpaca, OpenAI messages, LLaMA-Factory, MiniMind v1 csv, parquet -> MiniMind jsonl

Common options: --output FILE (never one of the inputs), --overwrite (replace an existing output),
--no-progress. Rows that cannot be read or do not fit are skipped and counted by reason, with their
file:line.

Run 'minimind data <command> --help' for one command's options.`;

type Values = Record<string, string | boolean | string[] | undefined>;

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
  if (p.positionals.length === 0) throw new CliError(`give at least one input file\n\n${cmd.usage}`);
  await cmd.run(p.positionals, p.values);
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

/** The output path, after refusing one that is an input or that exists without --overwrite. */
export function outputFlag(v: Values, inputs: string[], usage: string, flag = 'output'): string {
  const out = requireFlag(v, flag, usage);
  refuseSamePath([`--${flag}`, out], ...inputs.map((i): [string, string] => ['input', i]));
  refuseExisting(`--${flag}`, out, v.overwrite === true);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  return out;
}

export function printRejects(what: string, r: Rejects): void {
  if (r.total === 0) return;
  console.log(`${what}: ${r.total.toLocaleString('en-US')} rows`);
  for (const line of r.lines()) console.log(line);
}

const STATS_USAGE = `Usage: minimind data stats FILE... [--tokenizer DIR] [--max-seq-len N] [--field NAME] [--html OUT.html] [--json]

One pass over the files: rows, MB and characters, tokens with --tokenizer (what training sees:
bos + text + eos, or the chat template), length histograms with p50/p90/p99, rows over
--max-seq-len [512], the script mix (rows by the script of most of their letters), the rate of
exact duplicates (after NFKC, lower case, whitespace folding), the fields and record formats found.
--html writes the same as a page with charts; --json prints it as JSON.`;

const CONVERT_USAGE = `Usage: minimind data convert FILE... --to pretrain|sft|dpo|rlaif --output OUT.jsonl [--text-field NAME] [--overwrite]

Reads MiniMind jsonl, ShareGPT ({conversations|messages: [{from, value}]}, system, tools),
OpenAI ({messages: [{role, content}]}), Alpaca / LLaMA-Factory ({instruction, input, output,
system, history}; DPO: {conversations|instruction, chosen, rejected}), MiniMind v1 csv (history,q,a)
and text ({text} or --text-field), from jsonl, json, csv, parquet or txt, and writes MiniMind's
schema for the stage:
  pretrain {"text"}   sft {"conversations"}   dpo {"chosen", "rejected"}
  rlaif {"conversations": [...prompt, {"role": "assistant", "content": "无"}]}
Rows that do not fit are skipped and counted by reason.`;

const COMMANDS: Record<string, DataCommand> = {
  stats: {
    usage: STATS_USAGE,
    flags: { tokenizer: { type: 'string' }, 'max-seq-len': { type: 'string' }, html: { type: 'string' }, json: { type: 'boolean' }, field: { type: 'string' } },
    async run(inputs, v) {
      const { corpusStats, formatStats } = await import('../../corpus/stats.js');
      const { openTokenizer } = await import('../../corpus/tokenizer.js');
      const html = typeof v.html === 'string' ? v.html : undefined;
      if (html !== undefined) {
        refuseSamePath(['--html', html], ...inputs.map((i): [string, string] => ['input', i]));
        refuseExisting('--html', html, v.overwrite === true);
        mkdirSync(dirname(resolve(html)), { recursive: true });
      }
      const tokenizer = typeof v.tokenizer === 'string' ? openTokenizer(v.tokenizer) : undefined;
      const maxSeqLen = numberFlag(v, 'max-seq-len', 512);
      const bar = byteProgress('stats', v);
      const s = await corpusStats({ inputs, tokenizer, maxSeqLen, field: v.field as string | undefined, onProgress: bar.onProgress });
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
};
