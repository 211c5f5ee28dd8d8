// `minimind export pth --model DIR --out model.pth [--style head|v1] [--save-dtype fp16|bf16|fp32]`:
// a state dict that MiniMind's own Python scripts load (src/formats/export-pth.ts).
import { existsSync } from 'node:fs';
import { CliError, parseFlags, requireFlag } from '../args.js';
import { refuseExisting } from '../outputs.js';
import { refuseOverlap } from '../../core/paths.js';
import { saveDtypeFlag } from './save-dtype.js';
import { swapHint } from '../../core/temp-paths.js';

const USAGE = `Usage: minimind export pth --model DIR --out FILE.pth [--style head|v1] [--save-dtype fp16|bf16|fp32] [--overwrite]

Writes the model as a PyTorch state dict that MiniMind's scripts load with
model.load_state_dict(torch.load(FILE)).

  --model DIR          a model folder
  --out FILE           the .pth file to write (an existing one is replaced only with --overwrite)
  --style S            head (default): MiniMind2 / minimind-3 key names (model.layers.N.self_attn.q_proj ...)
                       v1: v1 / m2-legacy names (layers.N.attention.wq ...) with v1's interleaved RoPE rows
  --save-dtype T       fp16 (default, as MiniMind saves), bf16 or fp32`;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, { model: { type: 'string' }, out: { type: 'string' }, style: { type: 'string' }, 'save-dtype': { type: 'string' }, overwrite: { type: 'boolean' } }, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  const modelDir = requireFlag(v, 'model', USAGE);
  const out = requireFlag(v, 'out', USAGE);
  const style = (v.style as string | undefined) ?? 'head';
  if (style !== 'head' && style !== 'v1') throw new CliError(`--style must be head or v1, got '${style}'`);
  const dtype = saveDtypeFlag(v['save-dtype'], 'F16');
  if (!existsSync(modelDir)) throw new CliError(`model folder not found: ${modelDir}${swapHint(modelDir)}`);
  refuseOverlap(['--out', out], [['--model', modelDir]]);
  refuseExisting('--out', out, v.overwrite === true, 'file', 'model.pth');
  const { loadModelFolder } = await import('../../formats/hf-folder.js');
  const { exportPth } = await import('../../formats/export-pth.js');
  try {
    const { model } = loadModelFolder(modelDir);
    try {
      exportPth(model, out, { style, dtype });
    } finally {
      model.dispose();
    }
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  console.log(`wrote ${out} (${style} key names, ${dtype})`);
}
