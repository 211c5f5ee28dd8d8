// `minimind import`: a MiniMind PyTorch checkpoint (.pth, any era) -> a model folder.
//   minimind import --pth out/full_sft_512.pth --preset minimind2-small --tokenizer model/ --out minimind2-small
// v1 / m2-legacy key names are renamed and their q/k rows permuted from interleaved to rotate-half RoPE.
import * as fs from 'node:fs';
import { CliError, parseFlags, requireFlag } from '../args.js';
import { refuseExisting } from '../outputs.js';
import { refuseOverlap } from '../../core/paths.js';
import { configFromDict, type MiniMindConfig } from '../../model/config.js';
import { presetConfig, presetNames } from '../../model/presets.js';
import { configFromHfJson, hfArchitecture, saveModelFolder } from '../../formats/hf-folder.js';
import { importPth } from '../../formats/import-pth.js';
import { saveDtypeFlag } from './save-dtype.js';

const USAGE = `Usage: minimind import --pth FILE (--preset NAME | --config FILE) [--tokenizer DIR] --out DIR [--save-dtype fp32|bf16|fp16]
       minimind import --lora lora_xxx.pth --model DIR --out ADAPTER_DIR   (MiniMind's LoRA file -> PEFT adapter folder)

Converts a MiniMind PyTorch state dict (.pth: v1 / MiniMind2 / minimind-3 key names) into a
model folder (config.json, model.safetensors, generation_config.json, tokenizer files).

  --pth FILE        the checkpoint (fp16/bf16/fp32; 'module.' / '_orig_mod.' prefixes are fine)
  --preset NAME     one of: ${presetNames().join(', ')}
  --config FILE     a config JSON instead (MiniMind field names, or a transformers config.json)
  --tokenizer DIR   folder with tokenizer.json and tokenizer_config.json to copy into the output
  --out DIR         output model folder (an existing one is replaced only with --overwrite)
  --save-dtype T    weight dtype in the folder: fp32 (default), bf16, fp16 (--dtype F32|BF16|F16 also works)`;

function readConfig(file: string): MiniMindConfig {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`--config ${file}: ${(e as Error).message}`);
  }
  try {
    if (Array.isArray(j.architectures)) {
      const problems: string[] = [];
      const c = configFromHfJson(j, file, problems);
      if (!c || problems.length > 0) throw new Error(problems.join('\n  '));
      return c;
    }
    return configFromDict(j, file);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

export async function run(argv: string[]): Promise<void> {
  if (argv.includes('--lora')) return (await import('./import-lora.js')).run(argv);
  const parsed = parseFlags(argv, {
    pth: { type: 'string' }, preset: { type: 'string' }, config: { type: 'string' },
    tokenizer: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' }, 'save-dtype': { type: 'string' }, overwrite: { type: 'boolean' },
  }, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  const pth = requireFlag(v, 'pth', USAGE);
  const out = requireFlag(v, 'out', USAGE);
  if (!fs.existsSync(pth)) throw new CliError(`--pth ${pth}: no such file`);
  refuseOverlap(['--out', out], [['--pth', pth], ['--config', typeof v.config === 'string' ? v.config : undefined], ['--tokenizer', typeof v.tokenizer === 'string' ? v.tokenizer : undefined]]);
  refuseExisting('--out', out, v.overwrite === true);
  if ((v.preset === undefined) === (v.config === undefined)) throw new CliError(`give exactly one of --preset or --config\n\n${USAGE}`);
  if (v.dtype !== undefined && v['save-dtype'] !== undefined) throw new CliError('give --save-dtype or --dtype, not both');
  const dtype = v.dtype !== undefined ? (v.dtype as string) : saveDtypeFlag(v['save-dtype']);
  if (dtype !== 'F32' && dtype !== 'BF16' && dtype !== 'F16') throw new CliError(`--dtype must be F32, BF16 or F16, got '${dtype}'`);
  let config: MiniMindConfig;
  try {
    config = v.preset !== undefined ? presetConfig(v.preset as string) : readConfig(v.config as string);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const tokenizer = v.tokenizer as string | undefined;
  if (tokenizer && !fs.existsSync(tokenizer)) throw new CliError(`--tokenizer ${tokenizer}: no such folder`);
  let result;
  try {
    result = importPth(pth, config);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const { model, info } = result;
  try {
    saveModelFolder(out, model, { tokenizerDir: tokenizer, dtype });
  } catch (e) {
    throw new CliError((e as Error).message);
  } finally {
    model.dispose();
  }
  console.log(`imported ${pth} (${info.keyStyle === 'v1' ? 'v1 / m2-legacy key names' : 'Hugging Face key names'}${info.permuted ? ', q/k rows permuted from interleaved to rotate-half RoPE' : ''}) -> ${out} as ${hfArchitecture(config)}`);
  if (info.dropped.length > 0) console.log(`dropped: ${info.dropped.join(', ')}`);
  if (!tokenizer) console.log('note: no --tokenizer given, so the folder has no tokenizer files');
}
