// The library as a page uses it: what `dist/web/minimind.js` (the ES module bundle) exports. The
// same modules as the Node package — engine, tokenizer (training too), model and generation, model
// folders, data readers and the training stages — with file and process access behind src/io:
// files live in an in-memory volume (io/volume.ts) that the page fills from fetch, dropped files or
// OPFS, and reads back for downloads.
export * from '../core/index.js';
export { UserError } from '../core/errors.js';
export * as ops from '../ops/index.js';
export * from '../nn/index.js';
export * from '../optim/index.js';
export * from '../tokenizer/index.js';
export { jsBackend } from '../backends/js/index.js';
export type { MiniMindConfig } from '../model/config.js';
export { presetConfig, presetNames } from '../model/presets.js';
export { MiniMindForCausalLM } from '../model/model.js';
export { generate, generateStream, type GenerateOptions, type TokenEvent } from '../model/generate.js';
export { loadModelFolder, saveModelFolder } from '../formats/hf-folder.js';
export { loadInferenceFolder, generationDefaults, stopTokenIds, contextLength } from '../formats/inference-folder.js';
export { readSafetensors, writeSafetensors, parseSafetensors } from '../formats/safetensors.js';
export { readJsonl } from '../data/jsonl.js';
export type { StepReport } from '../train/options.js';
export { pretrain } from '../train/pretrain.js';
export { sft } from '../train/sft.js';
export { quickstart, answer, type QuickstartResult } from '../train/quickstart.js';
export { generateQuickstartData } from '../train/quickstart-data.js';
export { putFile, filesUnder, files } from '../io/volume.js';
