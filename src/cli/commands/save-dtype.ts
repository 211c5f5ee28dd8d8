// The --save-dtype flag shared by the commands that write weights: fp32 | bf16 | fp16 (also
// accepted: float32 / bfloat16 / float16 and the safetensors spellings F32 / BF16 / F16).
import { CliError } from '../args.js';

export type SaveDtype = 'F32' | 'BF16' | 'F16';

const NAMES: Record<string, SaveDtype> = {
  fp32: 'F32', float32: 'F32', f32: 'F32', bf16: 'BF16', bfloat16: 'BF16', fp16: 'F16', float16: 'F16', f16: 'F16', half: 'F16',
};

/** The dtype a --save-dtype value names (fallback when absent); a one-line error otherwise. */
export function saveDtypeFlag(value: unknown, fallback: SaveDtype = 'F32'): SaveDtype {
  if (value === undefined) return fallback;
  const d = typeof value === 'string' ? NAMES[value.toLowerCase()] : undefined;
  if (!d) throw new CliError(`--save-dtype must be fp32, bf16 or fp16, got '${String(value)}'`);
  return d;
}
