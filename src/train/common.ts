// What every training stage shares: loading the tokenizer and the model (with the checks that
// keep a model and its tokenizer together), choosing the device, opening the tokenized datasets,
// and running the loop inside a claimed run folder. Each stage file (pretrain.ts, sft.ts, ...)
// reads top to bottom using these pieces; none of them knows about the command line.
import { existsSync, readFileSync } from '../io/fs.js';
import { join } from '../io/path.js';
import { UserError, asUserError } from '../core/errors.js';
import { getBackend, useDevice } from '../core/device.js';
import type { CudaBackend } from '../backends/cuda/index.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { TokenizerLike, toDataTokenizer } from '../data/tokenizer-like.js';
import { checkMaxLength, DatasetKind, openDataset, OpenedDataset } from '../data/datasets.js';
import { hashFiles } from '../data/token-cache.js';
import { MiniMindForCausalLM } from '../model/model.js';
import { presetConfig } from '../model/presets.js';
import type { MiniMindConfig } from '../model/config.js';
import { loadModelFolder } from '../formats/hf-folder.js';
import { checkTokenizerForModel } from '../formats/tokenizer-check.js';
import { supervisedStage, type TrainSummary, type TrainTask } from './trainer.js';
import { runStage } from './loop.js';
import { autoBatch } from './auto-batch.js';
import { memorySizeOption, type ModelOptions, type ResolvedStage, type StageOptions } from './options.js';
import { distEnv } from '../dist/group.js';
import { cacheEncoder } from './cache-encoder.js';
import { swapHint } from '../core/temp-paths.js';

export interface LoadedTokenizer {
  tokenizer: Tokenizer;
  data: TokenizerLike;
  dir: string;
  /** Hash of the tokenizer files, for the token cache key. */
  key: string;
}

export function loadTokenizer(dir: string, flag = '--tokenizer'): LoadedTokenizer {
  if (!existsSync(dir)) throw new UserError(`${flag}: folder not found: ${dir}${swapHint(dir)}`);
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new UserError(`${flag}: no tokenizer.json in ${dir} (give a model folder or a tokenizer folder)`);
  const tokenizer = asUserError(() => Tokenizer.load(dir), `${flag} ${dir}: `);
  return { tokenizer, data: toDataTokenizer(tokenizer, dir), dir, key: hashFiles([join(dir, 'tokenizer.json'), join(dir, 'tokenizer_config.json')]) };
}

/**
 * Makes the device the stage asked for the default for new tensors and sets the training precision:
 * bf16 = GEMM operands in bf16 with fp32 accumulation, weights and AdamW state in fp32 (PyTorch's
 * bf16 autocast); the default is bf16 on a GPU and fp32 on the CPU.
 */
export function prepareDevice(o: Pick<StageOptions, 'device' | 'dtype' | 'maxGpuMemory'>): void {
  const limit = o.maxGpuMemory !== undefined ? memorySizeOption(o.maxGpuMemory, 'maxGpuMemory') : null;
  const backend = o.device !== undefined ? asUserError(() => useDevice(o.device!)) : getBackend();
  const dtype = o.dtype ?? (backend.device === 'cuda' ? 'bf16' : 'fp32');
  const got = backend.setMatmulPrecision?.(dtype) ?? 'fp32';
  if (got !== dtype) throw new UserError(`--dtype ${dtype}: bf16 GEMMs are not available on the ${backend.name} backend of this machine (a CPU needs AMX or AVX512-BF16); use --dtype fp32`);
  if (limit !== null) {
    if (backend.device !== 'cuda') throw new UserError(`--max-gpu-memory caps the GPU's memory; it needs --device cuda (training runs on the ${backend.name} backend)`);
    (backend as CudaBackend).setMemoryLimit(limit);
  }
}

/** The model a stage trains, with the stage's memory options applied (--gradient-checkpointing). */
export function trainingModel(model: MiniMindForCausalLM, o: Pick<StageOptions, 'gradientCheckpointing'>): MiniMindForCausalLM {
  model.gradientCheckpointing = !!o.gradientCheckpointing;
  return model;
}

/** Loads a model folder with every problem in one line. */
export function loadModel(dir: string, flag = '--init-from'): MiniMindForCausalLM {
  return asUserError(() => loadModelFolder(dir).model, `${flag}: `);
}

/** A model that only gives targets (DPO's reference, distillation's teacher): no gradients, eval mode. */
export function loadFrozenModel(dir: string, flag = '--init-from'): MiniMindForCausalLM {
  const model = loadModel(dir, flag);
  for (const t of model.parameters()) t.requiresGrad = false;
  return model.eval();
}

/** True when two folders hold the same tokenizer.json. */
export function sameTokenizer(a: string, b: string): boolean {
  const fa = join(a, 'tokenizer.json');
  const fb = join(b, 'tokenizer.json');
  return existsSync(fa) && existsSync(fb) && readFileSync(fa).equals(readFileSync(fb));
}

/** The tokenizer a stage uses: `o.tokenizer`, else the one in the `initFrom` model folder. */
export function stageTokenizer(o: ModelOptions, fallbackDir?: string, required = 'give --tokenizer DIR (or --init-from a model folder)'): LoadedTokenizer {
  if (o.initFrom && o.tokenizer) {
    // The model's embedding rows mean the ids of the tokenizer it was trained with; another
    // tokenizer would silently scramble them.
    if (!sameTokenizer(o.tokenizer, o.initFrom)) throw new UserError(`--tokenizer ${o.tokenizer} is not the tokenizer of --init-from ${o.initFrom} (the model was trained with its own; different ids would scramble it); drop --tokenizer`);
  }
  const dir = o.tokenizer ?? o.initFrom ?? fallbackDir;
  if (!dir) throw new UserError(required);
  return loadTokenizer(dir, o.tokenizer ? '--tokenizer' : o.initFrom ? '--init-from' : '--tokenizer');
}

/**
 * The model to train: `initFrom` a model folder, or a new one from `preset` (default
 * `defaultPreset`) with hiddenSize / numHiddenLayers / useMoe overrides and the tokenizer's
 * vocabulary and special ids.
 */
export function buildModel(o: ModelOptions, tok: LoadedTokenizer, defaultPreset: string, seed: number): MiniMindForCausalLM {
  if (o.initFrom) {
    const conflicting = (['preset', 'hiddenSize', 'numHiddenLayers', 'useMoe'] as const).filter((k) => o[k] !== undefined && o[k] !== false);
    if (conflicting.length) throw new UserError(`--init-from ${o.initFrom} fixes the architecture; drop ${conflicting.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')}`);
    const model = loadModel(o.initFrom);
    checkVocabulary(model, tok, o.initFrom);
    return model;
  }
  const overrides: Partial<MiniMindConfig> = {
    vocab_size: tok.tokenizer.vocabSize,
    bos_token_id: tok.data.bosTokenId,
    eos_token_id: tok.data.eosTokenId,
    pad_token_id: tok.data.padTokenId,
  };
  for (const [k, key] of [['hiddenSize', 'hidden_size'], ['numHiddenLayers', 'num_hidden_layers']] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) throw new UserError(`--${k === 'hiddenSize' ? 'hidden-size' : 'num-hidden-layers'} must be a positive integer, got ${v}`);
    overrides[key] = v;
  }
  if (o.useMoe) overrides.use_moe = true;
  return asUserError(() => new MiniMindForCausalLM(presetConfig(o.preset ?? defaultPreset, overrides), { seed }));
}

/** The tokenizer must be the model's (checkTokenizerForModel): every id it produces has an embedding row meaning that token. */
export function checkVocabulary(model: MiniMindForCausalLM, tok: LoadedTokenizer, modelDir: string): void {
  checkTokenizerForModel(tok.tokenizer, tok.dir, model.config.vocab_size, modelDir);
}

/** Opens the training (and held-out) data of a stage, tokenizing into <out>/cache on first use (on --threads workers). */
export async function openStageData(r: ResolvedStage, o: StageOptions, kind: DatasetKind, tok: LoadedTokenizer, maxPositions: number): Promise<{ train: OpenedDataset; eval: OpenedDataset | null }> {
  const log = (m: string) => o.log?.(m);
  asUserError(() => checkMaxLength(r.maxSeqLen, maxPositions), '--max-seq-len: ');
  const common = {
    kind,
    tokenizer: tok.data,
    tokenizerKey: tok.key,
    maxLength: r.maxSeqLen,
    cacheDir: join(r.cfg.outDir, 'cache'),
    skipBadLines: !!o.skipBadLines,
    sftMask: o.sftMask,
    seed: r.seed,
    vocabSize: tok.tokenizer.vocabSize,
    log,
  };
  try {
    const train = await openDataset({ ...common, files: r.dataFiles, encode: cacheEncoder(tok.dir, r.dataFiles, r.threads, log), onProgress: (n) => log(`tokenizing: ${n} records`) });
    const evalData = r.evalFiles.length ? await openDataset({ ...common, files: r.evalFiles, encode: cacheEncoder(tok.dir, r.evalFiles, r.threads, log) }) : null;
    return { train, eval: evalData };
  } catch (e) {
    // Data problems are the caller's input: one clear line.
    throw e instanceof UserError ? e : new UserError((e as Error).message);
  }
}

/** --batch-size auto: the micro-batch and accumulation that keep the global batch and fit the GPU. */
function chooseBatch(r: ResolvedStage, task: TrainTask): { batchSize: number; accumulationSteps: number } {
  const be = getBackend();
  const { batchSize, accumulationSteps } = r.cfg;
  const global = batchSize * accumulationSteps;
  if (be.device !== 'cuda') {
    r.cfg.log?.(`--batch-size auto: nothing to fit on the ${be.name} backend; batch ${batchSize} x ${accumulationSteps} accumulation steps`);
    return { batchSize, accumulationSteps };
  }
  const fit = autoBatch(be as CudaBackend, task, global, r.cfg.padTo ?? r.maxSeqLen, r.maxGpuMemory);
  r.cfg.log?.(`--batch-size auto: micro-batch ${fit.batchSize} x ${fit.accumulationSteps} accumulation steps (global batch ${global}, rows of ${r.cfg.padTo ?? r.maxSeqLen} tokens)`);
  return fit;
}

/**
 * Runs a supervised stage in its run folder (loop.ts runStage: the folder claimed, the ranks of
 * `minimind launch` joined): `prepare` opens the data and builds the task (rank 0 first: it
 * tokenizes into the cache the other ranks then open), --batch-size auto fits the micro-batch, then
 * the loop trains.
 */
export async function runInFolder(r: ResolvedStage, prepare: () => Promise<TrainTask>): Promise<TrainSummary> {
  if (distEnv() && r.autoBatch) throw new UserError('--batch-size auto probes one GPU; under minimind launch give --batch-size N (the global batch)');
  return runStage(r.cfg, async () => {
    const task = await prepare();
    const cfg = r.autoBatch ? { ...r.cfg, ...chooseBatch(r, task) } : r.cfg;
    return supervisedStage(cfg, task);
  });
}
