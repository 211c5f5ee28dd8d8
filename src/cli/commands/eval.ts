// `minimind eval ceval | ppl`: flags -> options -> src/eval. ceval scores C-Eval or CMMLU questions
// (MiniMind v1's letter method or lm-eval's log-likelihood) and prints the accuracy table; ppl prints
// the loss, perplexity and bits per byte of a text file.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, numberFlag, parseFlags, requireFlag } from '../args.js';
import type { DeviceName } from '../../core/device.js';
import { refuseExisting, writeVia } from '../outputs.js';
import { refuseOverlap } from '../../core/paths.js';
import { Progress } from '../progress.js';
import type { MiniMindForCausalLM } from '../../model/model.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';
import { swapHint } from '../../core/temp-paths.js';

const USAGE = `Usage:
  minimind eval ceval --model <folder> [--adapter <dir>] --data <dir|file.csv> [--split val|test|dev] [--shots k]
                      [--method letter|loglik] [--subjects a,b] [--limit N] [--format ceval|cmmlu] [--batch-size N]
                      [--max-seq-len N] [--device cpu|cuda|webgpu|auto] [--dtype fp32|bf16] [--out results.jsonl [--overwrite]] [--json]
  minimind eval ppl   --model <folder> [--adapter <dir>] --data <file.txt|file.jsonl> [--max-seq-len N] [--stride S]
                      [--limit N] [--batch-size N] [--device cpu|cuda|webgpu|auto] [--dtype fp32|bf16] [--json]

--adapter applies a LoRA adapter (PEFT layout, e.g. runs/lora/adapter) without merging it.
--dtype fp32|bf16: GEMM precision (bf16 operands, fp32 accumulation) [bf16 on a GPU, else fp32;
MiniMind v1 scored in fp32].

ceval   multiple-choice accuracy on C-Eval ({subject}_{split}.csv) or CMMLU ({split}/{subject}.csv);
        the layout is detected from the CSV header. --data is the benchmark folder (e.g.
        ../shared/data/ceval or ../shared/data/cmmlu), a folder of CSVs or one CSV file.
          --split       default val, or test where there is no val split (CMMLU)
          --method      letter (default): MiniMind v1's eval_ceval.py — its system message and prompt
                        through the chat template, answer = the most probable of the tokens A-D
                        loglik: lm-evaluation-harness's ceval/cmmlu tasks — summed log-likelihood
                        of " A" ... " D" after lm-eval's prompt (acc and acc_norm)
          --shots k     the first k dev questions of the subject before each question (default 0)
          --subjects    only these subjects, comma-separated: subject names (computer_network) or
                        file-name stems (computer_network_val)
          --limit       only the first N questions of each subject (a quick check)
          --batch-size  questions per forward pass (default 16)
          --max-seq-len prompts are cut from the left to N tokens (default: the model's context;
                        MiniMind v1 used 512)
          --out         one JSON line per question: scores of A-D, prediction, answer (a split
                        without answers, as C-Eval test, is predicted but not scored); an
                        existing file is only replaced with --overwrite
          --json        print one JSON object (total, correct, accuracy, per subject and category)
ppl     perplexity of a .txt file (one document) or a .jsonl file ({"text": ...} per line); each
        document starts with BOS; longer than the window: a sliding window.
          --max-seq-len window in tokens (default: the model's context)
          --stride      window step (default half the window); each token is scored once
          --limit       only the first N documents
          --batch-size  windows per forward pass (default 8)
          --json        print {documents, tokens, bytes, nats, loss, perplexity, bits_per_byte, ...}`;

export async function run(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(`${USAGE}\n${(await import('./eval-toolcall.js')).TOOLCALL_USAGE}`);
    return;
  }
  if (sub === 'ceval' || sub === 'cmmlu') return ceval(rest);
  if (sub === 'ppl') return ppl(rest);
  if (sub === 'toolcall') return (await import('./eval-toolcall.js')).runToolcall(rest);
  throw new CliError(`unknown eval subcommand '${sub}' (ceval, ppl, toolcall)\n\n${USAGE}`);
}

const COMMON = {
  model: { type: 'string' },
  adapter: { type: 'string' },
  data: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-seq-len': { type: 'string' },
  device: { type: 'string' },
  dtype: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function positiveInt(values: Record<string, unknown>, name: string, fallback: number | undefined): number | undefined {
  if (values[name] === undefined) return fallback;
  const n = numberFlag(values, name, NaN);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive integer, got '${String(values[name])}'`);
  return n;
}

/**
 * Picks the device and GEMM precision first (weights are created on the device), then loads the
 * model folder (+ a LoRA adapter).
 */
async function loadModel(values: Record<string, unknown>): Promise<{ model: MiniMindForCausalLM; tokenizer: Tokenizer }> {
  const dir = requireFlag(values, 'model', USAGE);
  const dtype = values.dtype as 'fp32' | 'bf16' | undefined;
  if (dtype !== undefined && dtype !== 'fp32' && dtype !== 'bf16') throw new CliError(`--dtype must be fp32 or bf16, got '${dtype}'`);
  const { prepareDevice } = await import('../../train/common.js');
  // useDevice (inside) refuses a device name other than cpu, cuda, webgpu or auto.
  prepareDevice({ device: (typeof values.device === 'string' ? values.device : 'auto') as DeviceName, dtype });
  if (!existsSync(dir)) throw new CliError(`model folder not found: ${dir}${swapHint(dir)}`);
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new CliError(`${dir} has no tokenizer.json (evaluation needs the tokenizer next to the weights)`);
  const { loadModelFolder } = await import('../../formats/hf-folder.js');
  const { Tokenizer } = await import('../../tokenizer/tokenizer.js');
  const { checkTokenizerForModel } = await import('../../formats/tokenizer-check.js');
  const adapter = values.adapter as string | undefined;
  if (adapter !== undefined && !existsSync(adapter)) throw new CliError(`--adapter ${adapter}: no such folder`);
  try {
    const { model } = loadModelFolder(dir);
    if (adapter !== undefined) {
      const { loadLora } = await import('../../train/lora-adapter.js');
      loadLora(model, adapter);
    }
    model.eval();
    const tokenizer = Tokenizer.load(dir);
    checkTokenizerForModel(tokenizer, dir, model.config.vocab_size, dir);
    return { model, tokenizer };
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

async function ceval(argv: string[]): Promise<void> {
  const p = parseFlags(argv, {
    ...COMMON,
    split: { type: 'string' },
    shots: { type: 'string' },
    method: { type: 'string' },
    subjects: { type: 'string' },
    limit: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    overwrite: { type: 'boolean' },
  }, USAGE);
  if (!p) return;
  const v = p.values;
  requireFlag(v, 'model', USAGE);
  const data = requireFlag(v, 'data', USAGE);
  const method = (v.method as string | undefined) ?? 'letter';
  if (method !== 'letter' && method !== 'loglik') throw new CliError(`--method must be letter or loglik, got '${method}'`);
  const format = v.format as string | undefined;
  if (format !== undefined && format !== 'ceval' && format !== 'cmmlu') throw new CliError(`--format must be ceval or cmmlu, got '${format}'`);
  const shots = v.shots === undefined ? 0 : numberFlag(v, 'shots', 0);
  if (!Number.isInteger(shots) || shots < 0) throw new CliError(`--shots must be a non-negative integer, got '${String(v.shots)}'`);
  const batchSize = positiveInt(v, 'batch-size', 16)!;
  const maxSeqLen = positiveInt(v, 'max-seq-len', undefined);
  const out = v.out as string | undefined;
  if (out !== undefined) {
    refuseExisting('--out', out, v.overwrite === true, 'file', 'results.jsonl');
    refuseOverlap(['--out', out], [['--data', data], ['--model', v.model as string]]);
  }
  const subjects = typeof v.subjects === 'string' ? v.subjects.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
  const limit = positiveInt(v, 'limit', undefined);

  const { loadMcSplit, findSplitFiles } = await import('../../eval/mc-data.js');
  const { evaluateMultipleChoice } = await import('../../eval/multiple-choice.js');
  const { mcSummary, formatMcSummary, mcResultRecord } = await import('../../eval/mc-report.js');
  // --limit cuts the questions asked, never the dev examples of --shots
  const load = (split: string, limit?: number) => loadMcSplit({ data, split, format: format as 'ceval' | 'cmmlu' | undefined, subjects, limit });
  let split = v.split as string | undefined;
  if (split === undefined) {
    try {
      findSplitFiles(data, 'val');
      split = 'val';
    } catch {
      split = 'test';
    }
  }
  const questions = await load(split, limit);
  if (questions.questions.length === 0) throw new CliError(`no questions in ${data} (split ${split})`);
  if (shots > 0 && split === 'dev') throw new CliError('--shots takes its examples from the dev split; evaluate val or test with it');
  const dev = shots > 0 ? await load('dev') : undefined;

  const { model, tokenizer } = await loadModel(v);
  const progress = new Progress(`${questions.format} ${split}`, questions.questions.length, { logEvery: 500 });
  const t0 = Date.now();
  const results = evaluateMultipleChoice(model, tokenizer, questions, {
    method, shots, dev, batchSize, maxSeqLen,
    onProgress: (done, _total, tokens) => progress.update(done, tokens, { extra: { 'q/s': (done / Math.max((Date.now() - t0) / 1000, 1e-9)).toFixed(1) } }),
  });
  progress.finish();
  const seconds = (Date.now() - t0) / 1000;
  if (out !== undefined) writeVia(out, (tmp) => writeFileSync(tmp, results.map((r) => JSON.stringify(mcResultRecord(r, method))).join('\n') + '\n'));
  const summary = mcSummary(results, questions, method);
  if (v.json) console.log(JSON.stringify({ ...summary, shots, seconds, questions_per_second: results.length / Math.max(seconds, 1e-9) }));
  else console.log(`${formatMcSummary(summary)}\n\n${results.length} questions in ${seconds.toFixed(1)} s (${(results.length / Math.max(seconds, 1e-9)).toFixed(1)} questions/s)`);
}

async function ppl(argv: string[]): Promise<void> {
  const p = parseFlags(argv, { ...COMMON, stride: { type: 'string' }, limit: { type: 'string' } }, USAGE);
  if (!p) return;
  const v = p.values;
  requireFlag(v, 'model', USAGE);
  const data = requireFlag(v, 'data', USAGE);
  const maxSeqLen = positiveInt(v, 'max-seq-len', undefined);
  const stride = positiveInt(v, 'stride', undefined);
  const batchSize = positiveInt(v, 'batch-size', 8);
  const limit = positiveInt(v, 'limit', undefined);
  const { readDocuments } = await import('../../eval/documents.js');
  const { evaluatePerplexity } = await import('../../eval/perplexity.js');
  const docs = (await readDocuments(data)).slice(0, limit);
  const { model, tokenizer } = await loadModel(v);
  let progress: Progress | undefined;
  const r = evaluatePerplexity(model, tokenizer, docs, {
    maxSeqLen, stride, batchSize,
    onProgress: (done, total, tokens) => {
      progress ??= new Progress('ppl windows', total, { logEvery: 100 });
      progress.update(done, tokens);
    },
  });
  progress?.finish();
  if (v.json) console.log(JSON.stringify(r));
  else {
    console.log(`${r.documents} document${r.documents === 1 ? '' : 's'}, ${r.tokens} tokens, ${r.bytes} bytes (window ${r.max_seq_len}, stride ${r.stride})`);
    console.log(`loss ${r.loss.toFixed(4)}  perplexity ${r.perplexity.toFixed(3)}  bits per byte ${r.bits_per_byte.toFixed(4)}`);
  }
}
