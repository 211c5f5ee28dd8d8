// `minimind import --lora lora_xxx.pth --model DIR --out ADAPTER_DIR`: MiniMind's own LoRA file
// (model_lora.py save_lora; MiniMind2 / minimind-3 or m2-legacy v1 names) -> an adapter folder in
// PEFT's layout (src/formats/import-lora.ts), usable with --adapter, export --merge-lora and PEFT.
import { existsSync } from 'node:fs';
import { CliError, parseFlags, requireFlag } from '../args.js';
import { refuseExisting } from '../outputs.js';
import { refuseOverlap } from '../../core/paths.js';
import { saveDtypeFlag } from './save-dtype.js';
import { swapHint } from '../../core/temp-paths.js';

const USAGE = `Usage: minimind import --lora FILE.pth --model DIR --out ADAPTER_DIR [--save-dtype fp32|bf16|fp16] [--overwrite]

Converts a MiniMind LoRA file ({module}.lora.A.weight / .lora.B.weight, no scaling) into an adapter
folder (adapter_config.json + adapter_model.safetensors, Hugging Face PEFT layout).

  --lora FILE       MiniMind's LoRA .pth (e.g. out/lora/lora_identity_768.pth)
  --model DIR       the base model folder it was trained on (checks every shape; v1 names need its RoPE layout)
  --out DIR         the adapter folder to write (an existing one is replaced only with --overwrite)
  --save-dtype T    fp32 (default), bf16 or fp16`;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, { lora: { type: 'string' }, model: { type: 'string' }, out: { type: 'string' }, 'save-dtype': { type: 'string' }, overwrite: { type: 'boolean' } }, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  const file = requireFlag(v, 'lora', USAGE);
  const modelDir = requireFlag(v, 'model', USAGE);
  const out = requireFlag(v, 'out', USAGE);
  const dtype = saveDtypeFlag(v['save-dtype']);
  if (!existsSync(file)) throw new CliError(`--lora ${file}: no such file`);
  if (!existsSync(modelDir)) throw new CliError(`model folder not found: ${modelDir}${swapHint(modelDir)}`);
  refuseOverlap(['--out', out], [['--lora', file], ['--model', modelDir]]);
  refuseExisting('--out', out, v.overwrite === true);
  const { loadModelFolder } = await import('../../formats/hf-folder.js');
  const { importMiniMindLora } = await import('../../formats/import-lora.js');
  const { applyLoraWeights, saveLora } = await import('../../train/lora-adapter.js');
  const { mkdirSync } = await import('node:fs');
  try {
    const { model, config } = loadModelFolder(modelDir);
    try {
      const imported = importMiniMindLora(file, config);
      // MiniMind's LoRA has no scaling: alpha = rank.
      const layers = applyLoraWeights(model, imported.matrices, imported.rank, file);
      mkdirSync(out, { recursive: true });
      saveLora(out, layers, { rank: imported.rank, alpha: imported.rank, targets: layers.map((l) => l.name) }, { dtype });
      console.log(`imported ${layers.length} LoRA modules (rank ${imported.rank}, ${imported.keyStyle === 'v1' ? 'v1 names, q/k rows permuted to rotate-half' : 'Hugging Face names'}) -> ${out}`);
    } finally {
      model.dispose();
    }
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}
