// Module: a tree of named parameters and submodules, named as in Hugging Face state dicts
// (`model.layers.0.self_attn.q_proj.weight`), so saving and loading a model is a walk over
// namedParameters().
import { tensor, type Tensor } from '../core/tensor.js';

/** A trainable, long-lived tensor. */
export function parameter(data: Float32Array, shape: readonly number[]): Tensor {
  const t = tensor(data, shape).keep();
  t.requiresGrad = true;
  return t;
}

export class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  training = true;

  protected registerParameter(name: string, t: Tensor): Tensor {
    this.params.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Every parameter with its dotted name. A tensor shared under two names appears once (the first). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    const walk = (m: Module, p: string): void => {
      for (const [n, t] of m.params) {
        if (!seen.has(t)) {
          seen.add(t);
          out.push([p + n, t]);
        }
      }
      for (const [n, c] of m.children) walk(c, `${p}${n}.`);
    };
    walk(this, prefix);
    return out;
  }

  /** Every submodule below this one with its dotted name, parents before children (PyTorch's named_modules without the root). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [n, c] of this.children) {
      const name = prefix + n;
      out.push([name, c], ...c.namedModules(`${name}.`));
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Parameters that will be trained (requiresGrad). */
  trainableParameters(): Tensor[] {
    return this.parameters().filter((t) => t.requiresGrad);
  }

  numParameters(): number {
    return this.parameters().reduce((s, t) => s + t.size, 0);
  }

  train(on = true): this {
    this.training = on;
    for (const c of this.children.values()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Replaces parameter values by name; errors list the missing, unexpected or mis-shaped names
   * (the first 12, then a count). A NaN or infinite value is refused too: a model holding one
   * only ever produces NaN logits (an empty answer, a NaN loss at step 1).
   */
  loadStateDict(values: Map<string, { shape: readonly number[]; data: Float32Array }>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const problems: string[] = [];
    const named = this.namedParameters();
    const used = new Set<string>();
    for (const [name, t] of named) {
      const v = values.get(name);
      if (!v) {
        if (strict) problems.push(`missing: ${name} [${t.shape.join(', ')}]`);
        continue;
      }
      used.add(name);
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        problems.push(`shape mismatch: ${name} is [${t.shape.join(', ')}] in the model, [${v.shape.join(', ')}] in the file`);
        continue;
      }
      const bad = firstNonFinite(v.data);
      if (bad >= 0) throw new Error(`the weights hold ${v.data[bad]}: ${name}[${bad}] (a diverged run saves NaN or Inf); use an earlier checkpoint`);
      const up = tensor(v.data, t.shape, t.dtype, t.backend);
      t.backend.copy(t.buf, up.buf, t.size);
      up.dispose();
    }
    if (strict) for (const k of values.keys()) if (!used.has(k)) problems.push(`unexpected: ${k}`);
    if (problems.length > 0) {
      const shown = problems.length > 12 ? [...problems.slice(0, 12), `... and ${problems.length - 12} more`] : problems;
      throw new Error(`state dict does not match the model:\n  ${shown.join('\n  ')}`);
    }
  }

  /** Frees every parameter and its gradient. */
  dispose(): void {
    for (const t of this.parameters()) {
      t.disposeGrad();
      t.dispose();
    }
  }
}

/** Index of the first NaN or infinite value, -1 when all are finite. */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}
