// LoRA adapters, MiniMind style (model/model_lora.py): for each chosen Linear W (out, in), two
// small matrices A (rank, in) ~ N(0, 0.02) and B (out, rank) = 0, and the layer computes
//   y = x·Wᵀ + (alpha / rank) · (x·Aᵀ)·Bᵀ
// MiniMind uses rank 16 with no scaling (alpha = rank) on every *square* Linear — for
// minimind2/3 that is q_proj and o_proj. Only A and B train; the base weights stay frozen.
// Adapters are saved alone in Hugging Face PEFT's layout, so `PeftModel.from_pretrained` loads them
// onto the transformers model: adapter_config.json (peft_type LORA, r, lora_alpha, target_modules)
// + adapter_model.safetensors with `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`.
// Reading also accepts our earlier `<module>.lora.A.weight` keys (MiniMind's own names). An adapter
// is applied without merging (generate / chat --adapter) or merged: W' = W + (alpha / rank)·B·A.
import { existsSync, readFileSync, writeFileSync } from '../io/fs.js';
import { join } from '../io/path.js';
import { Rng } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { Linear, Module, parameter, normalInit } from '../nn/index.js';
import { fromFloat32, readSafetensors, toFloat32, writeSafetensors, type HostTensor } from '../formats/safetensors.js';

export interface LoraConfig {
  rank: number;
  alpha: number;
  /** 'square' (MiniMind: in == out), 'all' (every Linear except lm_head), or module-name suffixes like ['q_proj', 'v_proj']. */
  targets: 'square' | 'all' | string[];
}

export const DEFAULT_LORA: LoraConfig = { rank: 16, alpha: 16, targets: 'square' };

export interface LoraLayer {
  name: string;
  linear: Linear;
  A: Tensor;
  B: Tensor;
  scale: number;
  base: (x: Tensor) => Tensor;
}

/** Every Linear in the module tree with its dotted name (the tree's own naming). */
export function namedLinears(root: Module): [string, Linear][] {
  return root.namedModules().filter((e): e is [string, Linear] => e[1] instanceof Linear);
}

function selected(name: string, lin: Linear, targets: LoraConfig['targets']): boolean {
  if (name === 'lm_head' || name.endsWith('.lm_head')) return false;
  if (targets === 'square') return lin.inFeatures === lin.outFeatures;
  if (targets === 'all') return true;
  return targets.some((t) => name === t || name.endsWith('.' + t));
}

/**
 * Wraps the chosen Linears of `model` with LoRA and freezes every base parameter. Returns the
 * adapter layers; their A and B are the only trainable tensors.
 */
export function applyLora(model: Module, cfg: LoraConfig, seed = 42): LoraLayer[] {
  const rng = new Rng(seed);
  const layers: LoraLayer[] = [];
  for (const t of model.parameters()) t.requiresGrad = false;
  for (const [name, lin] of namedLinears(model)) {
    if (!selected(name, lin, cfg.targets)) continue;
    const A = parameter(normalInit(cfg.rank * lin.inFeatures, 0.02, rng), [cfg.rank, lin.inFeatures]);
    const B = parameter(new Float32Array(lin.outFeatures * cfg.rank), [lin.outFeatures, cfg.rank]);
    const base = lin.forward.bind(lin);
    const scale = cfg.alpha / cfg.rank;
    // x: (..., in) -> base (..., out) + scale · (x Aᵀ) Bᵀ
    lin.forward = (x: Tensor) => {
      const delta = ops.linear(ops.linear(x, A), B);
      return ops.add(base(x), scale === 1 ? delta : ops.scale(delta, scale));
    };
    layers.push({ name, linear: lin, A, B, scale, base });
  }
  if (layers.length === 0) throw new Error(`LoRA: no Linear layer matches targets ${JSON.stringify(cfg.targets)}`);
  return layers;
}

/** The adapters' trainable tensors with their MiniMind key names. */
export function loraParameters(layers: LoraLayer[]): [string, Tensor][] {
  return layers.flatMap((l) => [
    [`${l.name}.lora.A.weight`, l.A],
    [`${l.name}.lora.B.weight`, l.B],
  ] as [string, Tensor][]);
}

function host(t: Tensor): Float32Array {
  const a = t.toArray();
  return a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>);
}

/** PEFT's key of a LoRA matrix for the module `name` (names are the transformers model's). */
export function peftKey(name: string, which: 'A' | 'B'): string {
  return `base_model.model.${name}.lora_${which}.weight`;
}

/** Writes adapter_model.safetensors + adapter_config.json into dir, in PEFT's layout. */
export function saveLora(dir: string, layers: LoraLayer[], cfg: LoraConfig, opts: { dtype?: 'F32' | 'BF16' | 'F16'; baseModel?: string } = {}): void {
  const dtype = opts.dtype ?? 'F32';
  const tensors: Record<string, HostTensor> = {};
  for (const l of layers) {
    tensors[peftKey(l.name, 'A')] = fromFloat32(host(l.A), [...l.A.shape], dtype, peftKey(l.name, 'A'));
    tensors[peftKey(l.name, 'B')] = fromFloat32(host(l.B), [...l.B.shape], dtype, peftKey(l.name, 'B'));
  }
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  const targetModules = [...new Set(layers.map((l) => l.name.split('.').pop()!))].sort();
  const config = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: opts.baseModel ?? null,
    r: cfg.rank, lora_alpha: cfg.alpha, lora_dropout: 0.0, target_modules: targetModules,
    bias: 'none', fan_in_fan_out: false, use_rslora: false, use_dora: false, inference_mode: true,
    modules_to_save: null, layers_to_transform: null, init_lora_weights: true,
  };
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2) + '\n');
}

/** rank / alpha / targets of an adapter folder (PEFT's adapter_config.json, or ours before PEFT keys). */
export function readLoraConfig(dir: string): LoraConfig {
  const p = join(dir, 'adapter_config.json');
  if (!existsSync(p)) throw new Error(`not a LoRA adapter folder (no adapter_config.json): ${dir}`);
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new Error(`${p}: not valid JSON (${(e as Error).message})`);
  }
  if (c.peft_type !== undefined && c.peft_type !== 'LORA') throw new Error(`${p}: peft_type '${String(c.peft_type)}' is not LoRA`);
  for (const k of ['use_dora', 'use_rslora'] as const) if (c[k] === true) throw new Error(`${p}: ${k} = true is not supported`);
  if (c.bias !== undefined && c.bias !== 'none') throw new Error(`${p}: bias '${String(c.bias)}' is not supported (only 'none')`);
  if (typeof c.r !== 'number' || !(c.r > 0)) throw new Error(`${p}: r must be a positive number`);
  if (c.rank_pattern && Object.keys(c.rank_pattern).length > 0) throw new Error(`${p}: rank_pattern (per-module ranks) is not supported`);
  if (c.alpha_pattern && Object.keys(c.alpha_pattern).length > 0) throw new Error(`${p}: alpha_pattern (per-module alphas) is not supported`);
  const targets = (c.minimind_targets ?? c.target_modules) as LoraConfig['targets'];
  return { rank: c.r, alpha: typeof c.lora_alpha === 'number' ? c.lora_alpha : c.r, targets };
}

/**
 * The adapter's A and B per module, from PEFT keys (`base_model.model.<m>.lora_A.weight`, also with
 * an adapter name: `.lora_A.default.weight`) or our earlier ones (`<m>.lora.A.weight`).
 */
export function adapterMatrices(tensors: Map<string, HostTensor>, where: string): Map<string, { A: HostTensor; B: HostTensor }> {
  const parts = new Map<string, { A?: HostTensor; B?: HostTensor }>();
  for (const [k, t] of tensors) {
    const m = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/.exec(k) ?? /^(.+)\.lora\.([AB])\.weight$/.exec(k);
    if (!m) throw new Error(`${where}: '${k}' is not a LoRA matrix (expected <module>.lora_A.weight / .lora_B.weight)`);
    const e = parts.get(m[1]) ?? {};
    e[m[2] as 'A' | 'B'] = t;
    parts.set(m[1], e);
  }
  const out = new Map<string, { A: HostTensor; B: HostTensor }>();
  for (const [name, e] of parts) {
    if (!e.A || !e.B) throw new Error(`${where}: module ${name} has lora_${e.A ? 'A' : 'B'} but no lora_${e.A ? 'B' : 'A'}`);
    out.set(name, { A: e.A, B: e.B });
  }
  return out;
}

function upload(t: Tensor, data: Float32Array): void {
  const up = t.backend.upload(data);
  t.backend.copy(t.buf, up, t.size);
  t.backend.free(up);
}

/**
 * Wraps exactly the Linears named in `matrices` with LoRA (A, B set from them, scale alpha / rank)
 * and freezes the base parameters. Errors name any module the model lacks or a shape that differs.
 */
export function applyLoraWeights(model: Module, matrices: Map<string, { A: HostTensor; B: HostTensor }>, alpha: number, where: string): LoraLayer[] {
  const linears = new Map(namedLinears(model));
  const names = new Set(matrices.keys());
  for (const n of names) if (!linears.has(n)) throw new Error(`${where}: the model has no Linear '${n}' (was the adapter trained for another architecture?)`);
  const rank = matrices.values().next().value?.A.shape[0];
  if (rank === undefined) throw new Error(`${where}: the adapter holds no LoRA matrices`);
  const layers = applyLora(model, { rank, alpha, targets: [...names] }, 0).filter((l) => {
    if (names.has(l.name)) return true;
    l.linear.forward = l.base; // a suffix matched a module the adapter does not cover
    return false;
  });
  for (const l of layers) {
    const { A, B } = matrices.get(l.name)!;
    const want = (t: Tensor) => `[${t.shape.join(', ')}]`;
    if (A.shape.join() !== l.A.shape.join() || B.shape.join() !== l.B.shape.join()) {
      throw new Error(`${where}: ${l.name}: lora_A [${A.shape}] / lora_B [${B.shape}] do not fit the model (expected ${want(l.A)} / ${want(l.B)}; another model size?)`);
    }
    upload(l.A, toFloat32(A));
    upload(l.B, toFloat32(B));
  }
  return layers;
}

/** Applies the adapter saved in dir (PEFT layout, or ours) to model, without merging. */
export function loadLora(model: Module, dir: string): { layers: LoraLayer[]; config: LoraConfig } {
  const config = readLoraConfig(dir);
  const file = join(dir, 'adapter_model.safetensors');
  if (!existsSync(file)) throw new Error(`${dir}: no adapter_model.safetensors`);
  const { tensors } = readSafetensors(file);
  const layers = applyLoraWeights(model, adapterMatrices(tensors, file), config.alpha, file);
  if (layers[0].A.shape[0] !== config.rank) throw new Error(`${file}: lora_A has rank ${layers[0].A.shape[0]} but adapter_config.json says r = ${config.rank}`);
  return { layers, config };
}

/** Folds every adapter into its base weight (W += scale·B·A) and restores plain Linears. */
export function mergeLora(layers: LoraLayer[]): void {
  for (const l of layers) {
    const W = l.linear.weight;
    const [out, inF] = W.shape;
    const r = l.A.shape[0];
    const w = host(W).slice();
    const a = host(l.A);
    const b = host(l.B);
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < r; k++) {
        const bk = b[o * r + k] * l.scale;
        if (bk === 0) continue;
        for (let i = 0; i < inF; i++) w[o * inF + i] += bk * a[k * inF + i];
      }
    }
    const up = W.backend.upload(W.dtype === 'float64' ? Float64Array.from(w) : w);
    W.backend.copy(W.buf, up, W.size);
    W.backend.free(up);
    l.linear.forward = l.base;
    l.A.dispose();
    l.B.dispose();
  }
}
