// The `minimind` package: everything the command does, as a typed library.
//
//   import { pretrain, sft, loadModelFolder, Tokenizer, generate } from 'minimind';
//   const run = await pretrain({ data: 'pretrain.jsonl', tokenizer: 'tok/', preset: 'tiny-3', out: 'runs/pt',
//                                onProgress: (r) => console.log(r.step, r.loss) });
//   const { model } = loadModelFolder(run.modelDir);
//
// Layers, bottom up: the engine (Tensor, autograd, ops, nn, optim, backends), the tokenizer,
// the model and generation, model-folder IO, and the training stages. Every training stage is
// `stage(options) => Promise<TrainSummary>`; problems with the caller's input are thrown as
// UserError (the command prints those as one line and exits 2); the library never exits the
// process nor installs signal handlers (pass `signal` to stop a run with a checkpoint).

// Engine
export * from './core/index.js';
export { UserError, quoteUserText } from './core/errors.js';
export * as ops from './ops/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export type { Backend } from './backends/backend.js';

// Tokenizer
export * from './tokenizer/index.js';

// Model and generation
export type { MiniMindConfig, RopeScaling, MoeStyle } from './model/config.js';
export { completeConfig, countParameters, configFromDict } from './model/config.js';
export { presetConfig, presetNames } from './model/presets.js';
export { MiniMindForCausalLM, MiniMindModel, KVCache, type ForwardOptions } from './model/model.js';
export { generate, generateStream, generateSteps, type CausalLM, type GenerateOptions, type GenerationResult, type TokenEvent, type FinishReason } from './model/generate.js';
// The generation engine under generate(): prompts of different lengths (continuous batching, per-token log-probs)
export { generateBatch, ContinuousBatch, Sequence, type GenerateBatchOptions, type BatchResult, type SamplingParams, type SequenceEvent, type SequenceResult } from './model/batch-generate.js';
export { logitsProcessors, type LogitsProcessor, type ProcessorSettings } from './model/sampling.js';
export { decodeStep, forwardRagged, prefill, type Segment } from './model/batch-decode.js';

// Serving: the OpenAI-compatible server and web chat page (`minimind serve`)
export { serve, type ServeOptions } from './serve/load.js';
export type { RunningServer } from './serve/server.js';

// Model folders and checkpoints (one save/load pair for Hugging Face model folders)
export { loadModelFolder, saveModelFolder, SUPPORTED_ARCHITECTURES, type HfArchitecture } from './formats/hf-folder.js';
// A model folder opened for generation: weights, tokenizer, generation_config.json's defaults, stop tokens, context
export { loadInferenceFolder, generationDefaults, type InferenceFolder, type GenerationDefaults } from './formats/inference-folder.js';
export { readSafetensors, writeSafetensors, type HostTensor } from './formats/safetensors.js';
export { importPth } from './formats/import-pth.js';
export { applyLora, loadLora, saveLora, mergeLora, loraParameters, DEFAULT_LORA, type LoraConfig, type LoraLayer } from './train/lora-adapter.js';

// Evaluation (C-Eval / CMMLU, perplexity and bits per byte)
export * from './eval/index.js';

// Training stages
export type { StageOptions, ModelOptions, StepReport, StageDefaults } from './train/options.js';
export { pretrain, PRETRAIN_DEFAULTS, type PretrainOptions } from './train/pretrain.js';
export { sft, SFT_DEFAULTS, type SftOptions } from './train/sft.js';
export { lora, LORA_DEFAULTS, type LoraOptions } from './train/lora.js';
export { dpo, DPO_DEFAULTS, type DpoOptions } from './train/dpo.js';
export { distill, DISTILL_DEFAULTS, type DistillOptions } from './train/distill.js';
export { quickstart, type QuickstartOptions, type QuickstartResult } from './train/quickstart.js';
export { train, type TrainConfig, type TrainTask, type TrainSummary } from './train/trainer.js';
export { runLoop, runStage, type LoopConfig, type LoopSummary, type Stage, type StepContext, type StepOutcome } from './train/loop.js';
