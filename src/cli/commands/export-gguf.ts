// `minimind export gguf --model DIR --out FILE.gguf [--type f32|f16|bf16|q8_0]`: one GGUF file for
// llama.cpp / ollama (src/formats/gguf-export.ts), plus FILE.gguf.Modelfile for `ollama create`.
import { existsSync } from 'node:fs';
import { CliError, parseFlags, requireFlag } from '../args.js';
import { refuseExisting } from '../outputs.js';
import { refuseOverlap } from '../../core/paths.js';
import { GGUF_OUT_TYPES, type GgufOutType } from '../../formats/gguf-export.js';
import { swapHint } from '../../core/temp-paths.js';

const USAGE = `Usage: minimind export gguf --model DIR --out FILE.gguf [--type f32|f16|bf16|q8_0] [--no-modelfile]

Writes a GGUF file that llama.cpp and ollama load: architecture llama (dense), qwen3 (QK-norm) or
qwen3moe (Qwen3-style MoE), with the tokenizer and chat template inside; and FILE.gguf.Modelfile
for 'ollama create NAME -f FILE.gguf.Modelfile'.

  --model DIR        a model folder with its tokenizer (config.json, model.safetensors, tokenizer.json)
  --out FILE         the .gguf file to write (an existing one is replaced only with --overwrite)
  --type T           tensor type: f32, f16 (default), bf16 or q8_0 (norms stay f32)
  --no-modelfile     do not write the ollama Modelfile`;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, { model: { type: 'string' }, out: { type: 'string' }, type: { type: 'string' }, 'no-modelfile': { type: 'boolean' }, overwrite: { type: 'boolean' } }, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  const modelDir = requireFlag(v, 'model', USAGE);
  const out = requireFlag(v, 'out', USAGE);
  const type = (v.type as string | undefined) ?? 'f16';
  if (!GGUF_OUT_TYPES.includes(type as GgufOutType)) throw new CliError(`--type must be one of ${GGUF_OUT_TYPES.join(', ')}, got '${type}'`);
  if (!existsSync(modelDir)) throw new CliError(`model folder not found: ${modelDir}${swapHint(modelDir)}`);
  if (!existsSync(`${modelDir}/tokenizer.json`)) throw new CliError(`${modelDir} has no tokenizer.json (a GGUF file carries its tokenizer; copy the tokenizer files into the folder)`);
  refuseOverlap(['--out', out], [['--model', modelDir]]);
  refuseExisting('--out', out, v.overwrite === true, 'file', 'model.gguf');
  if (v['no-modelfile'] !== true) refuseExisting('--out', `${out}.Modelfile`, v.overwrite === true, 'file', 'model.gguf');
  const { loadModelFolder } = await import('../../formats/hf-folder.js');
  const { exportGguf } = await import('../../formats/gguf-export.js');
  let files: string[];
  try {
    const { model } = loadModelFolder(modelDir);
    try {
      files = exportGguf(model, modelDir, out, { type: type as GgufOutType, modelfile: v['no-modelfile'] !== true });
    } finally {
      model.dispose();
    }
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  console.log(`wrote ${files.join(', ')}`);
}
