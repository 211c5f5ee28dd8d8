// What every training stage shares: the command-line flags (MiniMind's argparse names in
// --kebab-case), turning them into a TrainConfig, loading the tokenizer and the model, and
// opening the tokenized datasets. Each stage file (pretrain.ts, sft.ts, ...) reads top to bottom
// using these pieces.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, FlagSpec, numberFlag, parseFlags } from '../cli/args.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { TokenizerLike, toDataTokenizer } from '../data/tokenizer-like.js';
import { checkMaxLength, DatasetKind, openDataset, OpenedDataset } from '../data/datasets.js';
import { hashFiles } from '../data/token-cache.js';
import { SftMaskMode } from '../data/encode.js';
import { MiniMindForCausalLM } from '../model/model.js';
import { presetConfig } from '../model/presets.js';
import type { MiniMindConfig } from '../model/config.js';
import { TrainConfig } from './trainer.js';
import { loadModelFolder } from './model-io.js';

/** MiniMind's per-script defaults (spec 4.3, HEAD). */
export interface StageDefaults {
  epochs: number;
  batchSize: number;
  learningRate: number;
  accumulationSteps: number;
  maxSeqLen: number;
  logInterval: number;
  saveInterval: number;
}

export const COMMON_FLAGS: FlagSpec = {
  data: { type: 'string' },
  out: { type: 'string' },
  tokenizer: { type: 'string' },
  'init-from': { type: 'string' },
  preset: { type: 'string' },
  'hidden-size': { type: 'string' },
  'num-hidden-layers': { type: 'string' },
  'use-moe': { type: 'boolean' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  'accumulation-steps': { type: 'string' },
  'max-seq-len': { type: 'string' },
  'grad-clip': { type: 'string' },
  'warmup-steps': { type: 'string' },
  'weight-decay': { type: 'string' },
  'log-interval': { type: 'string' },
  'save-interval': { type: 'string' },
  'eval-data': { type: 'string' },
  'eval-interval': { type: 'string' },
  'eval-batches': { type: 'string' },
  seed: { type: 'string' },
  resume: { type: 'boolean' },
  'max-steps': { type: 'string' },
  'stop-after': { type: 'string' },
  'skip-bad-lines': { type: 'boolean' },
  'pad-to-max-length': { type: 'boolean' },
  'sft-mask': { type: 'string' },
  quiet: { type: 'boolean' },
};

export function commonUsage(d: StageDefaults): string {
  return `Data and output:
  --data FILE[,FILE]       training data (.jsonl; v1 .csv / token .bin where the stage allows)
  --eval-data FILE         held-out data: its loss is logged every --eval-interval steps
  --out DIR                run folder: model/, checkpoints/, metrics.jsonl, report.html, cache/
  --skip-bad-lines         skip (and count) malformed lines instead of stopping at the first
Training (MiniMind's defaults for this stage in brackets):
  --epochs N [${d.epochs}]  --batch-size N [${d.batchSize}]  --learning-rate X [${d.learningRate}]
  --accumulation-steps N [${d.accumulationSteps}]  --max-seq-len N [${d.maxSeqLen}]  --grad-clip X [1.0]
  --warmup-steps N [0]  --weight-decay X [0.01]  --seed N [42]  --max-steps N (cap optimizer steps)
  --stop-after N           stop (with a checkpoint) after N optimizer steps of this invocation; --resume continues
  --log-interval N [${d.logInterval}]  --save-interval N [${d.saveInterval}]  --eval-interval N  --eval-batches N [20]
  --resume                 continue the run in --out from its latest checkpoint, exactly
  --pad-to-max-length      pad every batch to --max-seq-len as MiniMind does (default: to the longest row)
  --quiet                  no progress bar`;
}

export interface ParsedStage {
  values: Record<string, string | boolean | string[] | undefined>;
  cfg: TrainConfig;
  dataFiles: string[];
  evalFiles: string[];
  maxSeqLen: number;
  seed: number;
}

/** Parses the common flags plus `extra`; returns null after --help. */
export function parseStage(stage: string, argv: string[], d: StageDefaults, extra: FlagSpec, usage: string): ParsedStage | null {
  const parsed = parseFlags(argv, { ...COMMON_FLAGS, ...extra }, usage);
  if (!parsed) return null;
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument '${parsed.positionals[0]}'\n\n${usage}`);
  const data = typeof v.data === 'string' ? v.data : '';
  if (!data) throw new CliError(`--data is required\n\n${usage}`);
  const int = (name: string, fallback: number, min = 0) => {
    const n = numberFlag(v, name, fallback);
    if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer ≥ ${min}, got ${n}`);
    return n;
  };
  const pos = (name: string, fallback: number) => {
    const n = numberFlag(v, name, fallback);
    if (!(n > 0)) throw new CliError(`--${name} must be > 0, got ${n}`);
    return n;
  };
  const seed = int('seed', 42);
  const maxSeqLen = int('max-seq-len', d.maxSeqLen, 2);
  const out = resolve(typeof v.out === 'string' ? v.out : join('runs', stage));
  const cfg: TrainConfig = {
    stage,
    outDir: out,
    epochs: int('epochs', d.epochs, 1),
    batchSize: int('batch-size', d.batchSize, 1),
    accumulationSteps: int('accumulation-steps', d.accumulationSteps, 1),
    lr: pos('learning-rate', d.learningRate),
    warmupSteps: int('warmup-steps', 0),
    weightDecay: numberFlag(v, 'weight-decay', 0.01),
    gradClip: numberFlag(v, 'grad-clip', 1.0),
    logInterval: int('log-interval', d.logInterval, 1),
    saveInterval: int('save-interval', d.saveInterval, 1),
    evalInterval: int('eval-interval', 0),
    evalBatches: int('eval-batches', 20, 1),
    seed,
    resume: !!v.resume,
    maxSteps: v['max-steps'] !== undefined ? int('max-steps', 0, 1) : undefined,
    stopAfterSteps: v['stop-after'] !== undefined ? int('stop-after', 0, 1) : undefined,
    padTo: v['pad-to-max-length'] ? maxSeqLen : undefined,
    quiet: !!v.quiet,
  };
  const split = (s: unknown) => (typeof s === 'string' && s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
  return { values: v, cfg, dataFiles: split(v.data), evalFiles: split(v['eval-data']), maxSeqLen, seed };
}

export interface LoadedTokenizer {
  tokenizer: Tokenizer;
  data: TokenizerLike;
  dir: string;
  /** Hash of the tokenizer files, for the token cache key. */
  key: string;
}

export function loadTokenizer(dir: string): LoadedTokenizer {
  if (!existsSync(dir)) throw new CliError(`folder not found: ${dir}`);
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new CliError(`no tokenizer.json in ${dir} (give a model folder or a tokenizer folder)`);
  const tokenizer = Tokenizer.load(dir);
  return { tokenizer, data: toDataTokenizer(tokenizer, dir), dir, key: hashFiles([join(dir, 'tokenizer.json'), join(dir, 'tokenizer_config.json')]) };
}

/**
 * The model to train: --init-from a model folder, or a new one from --preset (default
 * `defaultPreset`) with --hidden-size / --num-hidden-layers / --use-moe overrides and the
 * tokenizer's vocabulary and special ids.
 */
export function buildModel(v: ParsedStage['values'], tok: LoadedTokenizer, defaultPreset: string, seed: number): MiniMindForCausalLM {
  const from = typeof v['init-from'] === 'string' ? v['init-from'] : '';
  if (from) return loadModelFolder(from);
  const overrides: Partial<MiniMindConfig> = {
    vocab_size: tok.tokenizer.vocabSize,
    bos_token_id: tok.data.bosTokenId,
    eos_token_id: tok.data.eosTokenId,
    pad_token_id: tok.data.padTokenId,
  };
  if (v['hidden-size'] !== undefined) overrides.hidden_size = numberFlag(v, 'hidden-size', 0);
  if (v['num-hidden-layers'] !== undefined) overrides.num_hidden_layers = numberFlag(v, 'num-hidden-layers', 0);
  if (v['use-moe']) overrides.use_moe = true;
  try {
    return new MiniMindForCausalLM(presetConfig(typeof v.preset === 'string' ? v.preset : defaultPreset, overrides), { seed });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** Opens the training (and held-out) data of a stage, tokenizing into <out>/cache on first use. */
export async function openStageData(
  p: ParsedStage,
  kind: DatasetKind,
  tok: LoadedTokenizer,
  maxPositions: number,
  log: (m: string) => void,
): Promise<{ train: OpenedDataset; eval: OpenedDataset | null }> {
  try {
    checkMaxLength(p.maxSeqLen, maxPositions);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const sftMask = p.values['sft-mask'] as SftMaskMode | undefined;
  if (sftMask !== undefined && sftMask !== 'all' && sftMask !== 'last') throw new CliError(`--sft-mask must be 'all' or 'last', got '${sftMask}'`);
  const common = {
    kind,
    tokenizer: tok.data,
    tokenizerKey: tok.key,
    maxLength: p.maxSeqLen,
    cacheDir: join(p.cfg.outDir, 'cache'),
    skipBadLines: !!p.values['skip-bad-lines'],
    sftMask,
    seed: p.seed,
    vocabSize: tok.tokenizer.vocabSize,
    log,
  };
  try {
    const train = await openDataset({ ...common, files: p.dataFiles, onProgress: (n) => log(`tokenizing: ${n} records`) });
    const evalData = p.evalFiles.length ? await openDataset({ ...common, files: p.evalFiles }) : null;
    return { train, eval: evalData };
  } catch (e) {
    // Data problems are the user's input: one clear line, no stack trace.
    throw new CliError((e as Error).message);
  }
}

/** stderr logger that respects --quiet. */
export function logger(quiet: boolean): (m: string) => void {
  return (m: string) => {
    if (!quiet) process.stderr.write(m + '\n');
  };
}

