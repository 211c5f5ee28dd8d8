// `minimind export --model DIR --merge-lora ADAPTER --out DIR`: folds LoRA adapters into the base
// weights (W' = W + (alpha/rank)·B·A, as MiniMind's merge_lora) and writes a plain model folder
// that needs no adapter at inference time.
import { existsSync } from 'node:fs';
import { CliError, parseFlags, requireFlag } from '../args.js';
import { refuseExisting, refuseSamePath } from '../outputs.js';
import { saveDtypeFlag } from './save-dtype.js';
import { loadLora, mergeLora } from '../../train/lora-adapter.js';
import { loadModelFolder, saveModelFolder } from '../../formats/hf-folder.js';

const USAGE = `Usage: minimind export --model DIR --merge-lora ADAPTER_DIR --out DIR [--overwrite]
       minimind export gguf --help      (a GGUF file for llama.cpp / ollama)
       minimind export pth --help       (a .pth state dict for MiniMind's own scripts)

  --model DIR          the base model folder the adapters were trained on
  --merge-lora DIR     a LoRA adapter folder (runs/lora/adapter)
  --out DIR            where to write the merged model folder (an existing one is replaced only with --overwrite)
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
  if (typeof v['merge-lora'] !== 'string') throw new CliError(`nothing to export: give --merge-lora ADAPTER_DIR\n\n${USAGE}`);
  if (!existsSync(modelDir)) throw new CliError(`model folder not found: ${modelDir}`);
  refuseSamePath(['--out', out], ['--model', modelDir], ['--merge-lora', v['merge-lora']]);
  refuseExisting('--out', out, v.overwrite === true);
  const dtype = saveDtypeFlag(v['save-dtype']);
  let model;
  try {
    model = loadModelFolder(modelDir).model;
    const { layers, config } = loadLora(model, v['merge-lora']);
    mergeLora(layers);
    saveModelFolder(out, model, { tokenizerDir: modelDir, dtype });
    console.log(`merged ${layers.length} LoRA adapters (rank ${config.rank}) into ${out}`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
}
