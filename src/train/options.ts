// The options every training stage takes (MiniMind's argparse names in camelCase), their
// defaults per stage, and their validation: the one loop's options (LoopOptions, every stage,
// RL included) resolved by `resolveLoop`; the supervised stages' `StageOptions & ModelOptions &
// { its extras }` by `resolveTraining` (resolveLoop + batching and data); the RL stages'
// RlRunOptions by rl/stage.ts's resolveRl (resolveLoop + sampling). Each throws a UserError
// naming the option (by its command-line spelling, the same name in kebab-case) and what would
// be valid.
import { existsSync } from '../io/fs.js';
import { resolve } from '../io/path.js';
import { UserError } from '../core/errors.js';
import { refuseOverlap } from '../core/paths.js';
import type { DeviceName } from '../core/device.js';
import type { SftMaskMode } from '../data/encode.js';
import type { TrainConfig } from './trainer.js';
import type { LoopConfig } from './loop.js';
import type { StepReport } from './run-log.js';
import { swapHint } from '../core/temp-paths.js';

/** MiniMind's per-script defaults of the loop's settings (HEAD's train_*.py). */
export interface LoopDefaults {
  epochs: number;
  batchSize: number;
  learningRate: number;
  logInterval: number;
  saveInterval: number;
  /** [1.0] */
  gradClip?: number;
  /** [0.01] */
  weightDecay?: number;
  /** [42] */
  seed?: number;
  /** [0: only at the end] */
  evalInterval?: number;
}

/** A supervised stage's defaults (docs/minimind.md 4.3, HEAD). */
export interface StageDefaults extends LoopDefaults {
  accumulationSteps: number;
  maxSeqLen: number;
}

/** The one loop's options, every stage's (supervised and RL). Only `out` is required. */
export interface LoopOptions {
  /** Run folder: model/ (or adapter/), checkpoints/, metrics.jsonl, report.html. */
  out: string;
  epochs?: number;
  /** Examples (RL: prompts) per step, over all ranks. */
  batchSize?: number;
  learningRate?: number;
  /** Global gradient-norm clip; 0 disables. */
  gradClip?: number;
  weightDecay?: number;
  logInterval?: number;
  saveInterval?: number;
  /** The stage's evaluation (held-out loss, RL accuracy) every N steps and at the end. */
  evalInterval?: number;
  seed?: number;
  /** Continue the run in `out` from its newest valid checkpoint, exactly. */
  resume?: boolean;
  /** Replace an earlier run in `out` (kept aside until this run's first checkpoint) instead of refusing. */
  overwrite?: boolean;
  /** Cap on steps (shortens the run and its lr schedule). */
  maxSteps?: number;
  /** Stop with a checkpoint after this many steps of this call (resume continues). */
  stopAfter?: number;
  /** Checkpoints kept besides the newest (default 2 in all). */
  keepCheckpoints?: number;
  /** Precision of the weights written to model/ (or adapter/): 'fp32' (default), 'bf16' or 'fp16'. Checkpoints stay fp32. */
  saveDtype?: 'fp32' | 'bf16' | 'fp16';
  /** Called after every step. */
  onProgress?: (report: StepReport) => void;
  /** Called with one-line messages (model size, tokenizing, resuming, ...). Default: silent. */
  log?: (message: string) => void;
  /** Aborting stops training after the current step with a checkpoint (summary.interrupted). */
  signal?: AbortSignal;
}

export type { StepReport };

/** Options shared by every supervised stage. Only `data` and `out` are required. */
export interface StageOptions extends Omit<LoopOptions, 'batchSize'> {
  /** Training data file(s): .jsonl (v1 .csv / token .bin where the stage allows). */
  data: string | string[];
  /** Held-out data; its loss is logged every evalInterval steps and at the end. */
  evalData?: string | string[];
  /** Examples per micro-batch; 'auto' (GPU): the largest that fits, accumulation keeping batch x accumulation steps. */
  batchSize?: number | 'auto';
  accumulationSteps?: number;
  maxSeqLen?: number;
  warmupSteps?: number;
  evalBatches?: number;
  /** Skip (and count) malformed data lines instead of stopping at the first. */
  skipBadLines?: boolean;
  /** Worker threads that tokenize jsonl / csv into the run's cache (default: the cores less one, at most 8; in a page, one). The cache is the same for any count. */
  threads?: number;
  /** Pad every batch to maxSeqLen as MiniMind does (default: to the longest row). */
  padToMaxLength?: boolean;
  /** false: every epoch reads the examples in file order (a side-by-side check needs it); default true, a seeded shuffle per epoch. */
  shuffle?: boolean;
  /** SFT data: supervise every assistant turn ('all', jsonl default) or only the last (v1 csv default). */
  sftMask?: SftMaskMode;
  /** Where tensors live: 'cpu' (default), 'cuda', or 'auto'. */
  device?: DeviceName;
  /** Training precision; 'fp32' is the default. */
  dtype?: 'fp32' | 'bf16';
  /** Recompute each layer (and the LM head in chunks) in backward instead of keeping activations: less memory, ~1/3 more compute. */
  gradientCheckpointing?: boolean;
  /** Cap on the GPU memory training may hold: bytes, or a size with a unit ('8G', '512M'); past it a step fails as on a full card. */
  maxGpuMemory?: number | string;
}

/** How a stage gets its model: a model folder (`initFrom`) or a new one from a preset. */
export interface ModelOptions {
  /** Folder with tokenizer.json + tokenizer_config.json, for a new model. */
  tokenizer?: string;
  /** Start from this model folder instead of random weights. */
  initFrom?: string;
  /** A new model's preset (minimind-3, minimind2-small, v1-small, tiny, ...). */
  preset?: string;
  hiddenSize?: number;
  numHiddenLayers?: number;
  useMoe?: boolean;
}

/** Turns camelCase option names into the command's --kebab-case flag, for messages. */
export function flagName(option: string): string {
  return '--' + option.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function check(ok: boolean, option: string, want: string, got: unknown): void {
  if (!ok) throw new UserError(`${flagName(option)} must be ${want}, got ${typeof got === 'string' ? `'${got}'` : String(got)}`);
}

/** An integer option in [min, max], or its default. */
export function intOption(o: object, name: string, fallback: number, min = 0, max = Infinity): number {
  const v = (o as Record<string, unknown>)[name];
  if (v === undefined) return fallback;
  check(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, name, max === Infinity ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`, v);
  return v as number;
}

/** A finite number option in [min, max] (open at the bounds that `open` names), or its default. */
export function numberOption(o: object, name: string, fallback: number, min = -Infinity, max = Infinity, open: 'min' | 'none' = 'none'): number {
  const v = (o as Record<string, unknown>)[name];
  if (v === undefined) return fallback;
  const lowOk = open === 'min' ? (v as number) > min : (v as number) >= min;
  const range = open === 'min' ? (max === Infinity ? `> ${min}` : `in (${min}, ${max}]`) : max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`;
  check(typeof v === 'number' && Number.isFinite(v) && lowOk && v <= max, name, `a number ${range}`, v);
  return v as number;
}

const UNITS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A memory size: a number of bytes, or a string with a unit (8G, 8GB, 8GiB, 512M; powers of 1024). */
export function memorySizeOption(v: number | string, name: string): number {
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmgt])(?:i?b)?\s*$/i.exec(v) : null;
  const bytes = typeof v === 'number' ? v : m ? Number(m[1]) * UNITS[m[2].toLowerCase()] : NaN;
  check(Number.isFinite(bytes) && bytes >= 2 ** 20, name, 'a size with a unit of at least 1M, like 8G or 512M', v);
  return Math.floor(bytes);
}

export function fileList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

export interface ResolvedStage {
  cfg: TrainConfig;
  dataFiles: string[];
  evalFiles: string[];
  maxSeqLen: number;
  seed: number;
  /** The saved weights' dtype, in safetensors spelling. */
  saveDtype: 'F32' | 'BF16' | 'F16';
  /** --batch-size auto: cfg.batchSize x cfg.accumulationSteps is the global batch to split (train/auto-batch.ts). */
  autoBatch: boolean;
  /** --max-gpu-memory in bytes, 0 when not given. */
  maxGpuMemory: number;
  /** --threads for tokenizing into the cache; undefined: the default (train/cache-encoder.ts). */
  threads: number | undefined;
}

const SAVE_DTYPES = { fp32: 'F32', bf16: 'BF16', fp16: 'F16' } as const;

/** A saveDtype option ('fp32' default, 'bf16', 'fp16') in safetensors spelling; a UserError names --save-dtype otherwise. */
export function saveDtypeOption(v: string | undefined): ResolvedStage['saveDtype'] {
  if (v !== undefined && !Object.hasOwn(SAVE_DTYPES, v)) throw new UserError(`--save-dtype must be fp32, bf16 or fp16, got '${v}'`);
  return SAVE_DTYPES[(v ?? 'fp32') as keyof typeof SAVE_DTYPES];
}

/** Options that name a folder a stage reads (a model, a tokenizer, a teacher): never inside or around `out`. */
const INPUT_OPTIONS = ['initFrom', 'tokenizer', 'teacher'] as const;

/** Every path a stage reads, with its flag: the data and held-out files and the input folders. */
export function stageInputs(o: object, dataFiles: string[], evalFiles: string[]): [string, string | undefined][] {
  const named = INPUT_OPTIONS.map((k) => [flagName(k), (o as Record<string, unknown>)[k]] as [string, unknown]);
  return [
    ...dataFiles.map((f) => ['--data', f] as [string, string]),
    ...evalFiles.map((f) => ['--eval-data', f] as [string, string]),
    ...named.map(([flag, v]) => [flag, typeof v === 'string' ? v : undefined] as [string, string | undefined]),
  ];
}

/**
 * Checks, without reading them, that every input of a stage is there and none overlaps `out`:
 * what `minimind launch` verifies before it starts any rank (a rank that finds a missing file
 * only after the others joined costs the whole job's start-up).
 */
export function checkStageInputs(o: StageOptions): void {
  const dataFiles = fileList(o.data);
  const evalFiles = fileList(o.evalData);
  // (a folder is a token store from `minimind data tokenize`; the dataset checks what it holds)
  for (const f of [...dataFiles, ...evalFiles]) if (!existsSync(f)) throw new UserError(`data file not found: ${f}`);
  for (const [flag, dir] of stageInputs(o, [], [])) {
    if (dir !== undefined && !existsSync(dir)) throw new UserError(`${flag}: folder not found: ${dir}${swapHint(dir)}`);
  }
  refuseOverlap(['--out', o.out], stageInputs(o, dataFiles, evalFiles));
}

/**
 * Validates the shared options of a stage and fills in MiniMind's defaults for it. An `out` that
 * is, contains or lies inside any input (data, held-out data, initFrom, tokenizer, teacher) is refused.
 */
export function resolveTraining(stage: string, o: StageOptions, d: StageDefaults): ResolvedStage {
  const dataFiles = fileList(o.data);
  if (dataFiles.length === 0) throw new UserError('--data is required (one or more training files)');
  const loop = resolveLoop(stage, { ...o, batchSize: undefined }, d);
  const evalFiles = fileList(o.evalData);
  refuseOverlap(['--out', o.out], stageInputs(o, dataFiles, evalFiles));
  if (o.sftMask !== undefined && o.sftMask !== 'all' && o.sftMask !== 'last') throw new UserError(`--sft-mask must be 'all' or 'last', got '${o.sftMask}'`);
  if (o.dtype !== undefined && o.dtype !== 'fp32' && o.dtype !== 'bf16') throw new UserError(`--dtype must be fp32 or bf16, got '${o.dtype}'`);
  const maxSeqLen = intOption(o, 'maxSeqLen', d.maxSeqLen, 2);
  const cfg: TrainConfig = {
    ...loop,
    batchSize: o.batchSize === 'auto' ? d.batchSize : intOption(o, 'batchSize', d.batchSize, 1),
    accumulationSteps: intOption(o, 'accumulationSteps', d.accumulationSteps, 1),
    warmupSteps: intOption(o, 'warmupSteps', 0),
    evalBatches: intOption(o, 'evalBatches', 20, 1),
    padTo: o.padToMaxLength ? maxSeqLen : undefined,
    shuffle: o.shuffle,
  };
  const maxGpuMemory = o.maxGpuMemory !== undefined ? memorySizeOption(o.maxGpuMemory, 'maxGpuMemory') : 0;
  const threads = o.threads === undefined ? undefined : intOption(o, 'threads', 1, 1);
  return { cfg, dataFiles, evalFiles, maxSeqLen, seed: loop.seed, saveDtype: saveDtypeOption(o.saveDtype), autoBatch: o.batchSize === 'auto', maxGpuMemory, threads };
}

/**
 * The one resolver of the loop's options, every stage's: checks each (a UserError names the flag
 * and what would be valid) and fills in the stage's defaults `d`.
 */
export function resolveLoop(stage: string, o: LoopOptions, d: LoopDefaults): LoopConfig {
  if (typeof o.out !== 'string' || o.out === '') throw new UserError('--out is required (the run folder)');
  if (o.resume && o.overwrite) throw new UserError('--resume and --overwrite contradict each other: --resume continues the run in --out, --overwrite replaces it');
  saveDtypeOption(o.saveDtype);
  return {
    stage,
    outDir: resolve(o.out),
    epochs: intOption(o, 'epochs', d.epochs, 1),
    // Above 1 AdamW's first step already moves every weight by more than 1: nothing trains.
    lr: numberOption(o, 'learningRate', d.learningRate, 0, 1, 'min'),
    weightDecay: numberOption(o, 'weightDecay', d.weightDecay ?? 0.01, 0, 1),
    gradClip: numberOption(o, 'gradClip', d.gradClip ?? 1.0, 0),
    logInterval: intOption(o, 'logInterval', d.logInterval, 1),
    saveInterval: intOption(o, 'saveInterval', d.saveInterval, 1),
    evalInterval: intOption(o, 'evalInterval', d.evalInterval ?? 0),
    seed: intOption(o, 'seed', d.seed ?? 42),
    resume: !!o.resume,
    overwrite: !!o.overwrite,
    maxSteps: o.maxSteps !== undefined ? intOption(o, 'maxSteps', 0, 1) : undefined,
    stopAfterSteps: o.stopAfter !== undefined ? intOption(o, 'stopAfter', 0, 1) : undefined,
    keepCheckpoints: intOption(o, 'keepCheckpoints', 2, 1),
    onProgress: o.onProgress,
    log: o.log,
    signal: o.signal,
  };
}
