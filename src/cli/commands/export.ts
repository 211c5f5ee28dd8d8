// `minimind export --model DIR [--merge-lora ADAPTER] --out DIR [--save-dtype T]`: writes a plain
// model folder: with --merge-lora the LoRA adapters folded into the base weights (W' = W +
// (alpha/rank)·B·A, as MiniMind's merge_lora), so it needs no adapter at inference time; without,
// the model re-saved (in another dtype). Tokenizer files and generation_config.json's sampling
// settings come along.
import { existsSync } from 'node:fs';
import { CliError, parseFlags, requireFlag } from '../args.js';
import { refuseExisting } from '../outputs.js';
import { refuseOverlap } from '../../core/paths.js';
import { saveDtypeFlag } from './save-dtype.js';
import { loadLora, mergeLora } from '../../train/lora-adapter.js';
import { loadModelFolder, readGenerationConfig, saveModelFolder } from '../../formats/hf-folder.js';
import { swapHint } from '../../core/temp-paths.js';

const USAGE = `Usage: minimind export --model DIR [--merge-lora ADAPTER_DIR] --out DIR [--save-dtype T] [--overwrite]
       minimind export gguf --help      (a GGUF file for llama.cpp / ollama)
       minimind export pth --help       (a .pth state dict for MiniMind's own scripts)

Writes a model folder (config.json, model.safetensors, tokenizer, generation_config.json):
  with --merge-lora, the model with the adapter folded into its weights (no adapter needed to run it);
  without, the model re-saved, e.g. in bf16:  minimind export --model M --out M-bf16 --save-dtype bf16

  --model DIR          the model folder (with --merge-lora: the base model the adapter was trained on)
  --merge-lora DIR     a LoRA adapter folder (runs/lora/adapter)
  --out DIR            where to write the model folder (an existing one is replaced only with --overwrite)
  --save-dtype T       weights in fp32 (default), bf16 or fp16`;

export async function run(argv: string[]): Promise<void> {
  // `export gguf ...` / `export pth ...`: their own commands; plain `export` merges LoRA adapters.
  if (argv[0] === 'gguf') return (await import('./export-gguf.js')).run(argv.slice(1));
  if (argv[0] === 'pth') return (await import('./export-pth.js')).run(argv.slice(1));
  const parsed = parseFlags(argv, { model: { type: 'string' }, 'merge-lora': { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean' }, 'save-dtype': { type: 'string' } }, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  const modelDir = requireFlag(v, 'model', USAGE);
  const out = requireFlag(v, 'out', USAGE);
  const adapter = v['merge-lora'] as string | undefined;
  if (!existsSync(modelDir)) throw new CliError(`model folder not found: ${modelDir}${swapHint(modelDir)}`);
  refuseOverlap(['--out', out], [['--model', modelDir], ['--merge-lora', adapter]]);
  refuseExisting('--out', out, v.overwrite === true);
  const dtype = saveDtypeFlag(v['save-dtype']);
  let model;
  try {
    model = loadModelFolder(modelDir).model;
    const generation = readGenerationConfig(modelDir);
    const merged = adapter === undefined ? null : loadLora(model, adapter);
    if (merged) mergeLora(merged.layers);
    saveModelFolder(out, model, { tokenizerDir: modelDir, dtype, generation });
    const weights = `${{ F32: 'fp32', BF16: 'bf16', F16: 'fp16' }[dtype]} weights`;
    console.log(merged ? `merged ${merged.layers.length} LoRA adapters (rank ${merged.config.rank}) into ${out} (${weights})` : `re-saved ${modelDir} as ${out} (${weights})`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
}
