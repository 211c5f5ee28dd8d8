// LoRA adapters, MiniMind style (model/model_lora.py): for each chosen Linear W (out, in), two
// small matrices A (rank, in) ~ N(0, 0.02) and B (out, rank) = 0, and the layer computes
//   y = x·Wᵀ + (alpha / rank) · (x·Aᵀ)·Bᵀ
// MiniMind uses rank 16 with no scaling (alpha = rank) on every *square* Linear — for
// minimind2/3 that is q_proj and o_proj. Only A and B train; the base weights stay frozen.
// Adapters are saved alone (adapter_model.safetensors with `<module>.lora.A.weight` /
// `.lora.B.weight`, MiniMind's key names, + adapter_config.json) and can be merged into the base
// weights: W' = W + (alpha / rank)·B·A.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { Linear, Module, parameter, normalInit } from '../nn/index.js';
import { readSafetensors, writeSafetensors, HostTensor } from '../formats/safetensors.js';

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

/** Writes adapter_model.safetensors + adapter_config.json into dir. */
export function saveLora(dir: string, layers: LoraLayer[], cfg: LoraConfig): void {
  const tensors: Record<string, HostTensor> = {};
  for (const [name, t] of loraParameters(layers)) tensors[name] = { dtype: 'F32', shape: [...t.shape], data: host(t) };
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  const targetModules = [...new Set(layers.map((l) => l.name.split('.').pop()!))];
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: cfg.rank, lora_alpha: cfg.alpha, target_modules: targetModules, minimind_targets: cfg.targets, lora_dropout: 0 }, null, 2) + '\n');
}

export function readLoraConfig(dir: string): LoraConfig {
  const p = join(dir, 'adapter_config.json');
  if (!existsSync(p)) throw new Error(`not a LoRA adapter folder (no adapter_config.json): ${dir}`);
  const c = JSON.parse(readFileSync(p, 'utf8'));
  return { rank: c.r, alpha: c.lora_alpha ?? c.r, targets: c.minimind_targets ?? c.target_modules };
}

/** Applies the adapter saved in dir to model (A and B set from the file). */
export function loadLora(model: Module, dir: string): { layers: LoraLayer[]; config: LoraConfig } {
  const config = readLoraConfig(dir);
  const { tensors } = readSafetensors(join(dir, 'adapter_model.safetensors'));
  const layers = applyLora(model, config);
  for (const [name, t] of loraParameters(layers)) {
    const h = tensors.get(name);
    if (!h) throw new Error(`${dir}: adapter has no tensor '${name}' (was it trained for another model size?)`);
    if (h.data.length !== t.size) throw new Error(`${dir}: '${name}' has ${h.data.length} values, the model expects ${t.size}`);
    const up = t.backend.upload(h.data as Float32Array);
    t.backend.copy(t.buf, up, t.size);
    t.backend.free(up);
  }
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
