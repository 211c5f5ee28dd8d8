// Whole models on the WebGPU backend against the CPU: tiny models' logits and every gradient
// (fp32, against the js backend; dense, QK-norm and MoE), 50 AdamW steps of a tiny model whose
// loss curve follows the CPU backend's, and greedy generation (prefill, then decode steps over the
// KV cache) with the same ids as on the CPU. CI runs it on lavapipe, so the models are small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCpuBackend } from '../../src/backends/cpu/index.js';
import { jsBackend } from '../../src/backends/js/index.js';
import type { Backend } from '../../src/backends/backend.js';
import { withBackend } from '../../src/core/device.js';
import { relErr } from './kernel-helpers.js';
import { tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';
import { AdamW, clipGradNormSq_ } from '../../src/optim/index.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { generate } from '../../src/model/generate.js';
import { requireWebgpu, webgpuSkip as skip } from './webgpu-helpers.js';

// Learnable synthetic text: each row follows t[i+1] = (5 t[i] + 17) mod V from a random start, with noise.
function batchOf(B: number, T: number, V: number, seed: number): { x: Int32Array; y: Int32Array } {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const x = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let t = Math.floor(rnd() * V);
    for (let i = 0; i < T; i++) { x[b * T + i] = t; t = (t * 5 + 17 + (rnd() < 0.1 ? 1 : 0)) % V; }
  }
  return { x, y: x.slice() };
}

for (const preset of ['tiny', 'tiny-3', 'tiny-moe']) {
  test(`webgpu vs js: ${preset} logits, loss and every gradient (fp32, relative error < 3e-6)`, { skip }, () => {
    const webgpu = requireWebgpu();
    const cfg = presetConfig(preset, { vocab_size: 300 });
    const B = 2, T = 24;
    const { x, y } = batchOf(B, T, cfg.vocab_size, 7);
    const run = (be: Backend): { logits: Float32Array; loss: number; grads: Map<string, Float32Array> } =>
      withBackend(be, () => {
        const model = new MiniMindForCausalLM(cfg, { seed: 3 });
        const r = scope(() => {
          const ids = tensor(x, [B, T], 'int32'), labels = tensor(y, [B, T], 'int32');
          const logits = noGrad(() => model.forward(ids).logits.toArray() as Float32Array);
          const { loss } = model.loss(ids, labels);
          loss.backward();
          return { logits, loss: loss.item() };
        });
        const grads = new Map(model.namedParameters().map(([n, p]) => [n, p.grad!.toArray() as Float32Array]));
        model.dispose();
        return { ...r, grads };
      });
    const want = run(jsBackend), got = run(webgpu);
    assert.ok(relErr(got.logits, want.logits) < 3e-6, `logits: relative error ${relErr(got.logits, want.logits).toExponential(2)}`);
    assert.ok(Math.abs(got.loss - want.loss) < 3e-6 * Math.abs(want.loss), `loss ${got.loss} vs js ${want.loss}`);
    let worst = 0;
    for (const [name, g] of want.grads) {
      const e = relErr(got.grads.get(name)!, g);
      worst = Math.max(worst, e);
      assert.ok(e < 3e-6, `grad ${name}: relative error ${e.toExponential(2)}`);
    }
    console.log(`# ${preset}: logits ${relErr(got.logits, want.logits).toExponential(2)}, worst gradient ${worst.toExponential(2)} (relative L2 vs js)`);
  });
}

/** AdamW steps of a tiny model on the synthetic text; the loss at every step and the model. */
function train(be: Backend, steps: number): { losses: number[]; model: MiniMindForCausalLM } {
  return withBackend(be, () => {
    const cfg = presetConfig('tiny', { vocab_size: 256 });
    const model = new MiniMindForCausalLM(cfg, { seed: 42 });
    const params = model.parameters();
    const opt = new AdamW(params, { lr: 3e-3, betas: [0.9, 0.95], weightDecay: 0.1 });
    const losses: number[] = [];
    const B = 4, T = 64;
    for (let s = 0; s < steps; s++) {
      const { x, y } = batchOf(B, T, cfg.vocab_size, 1000 + s);
      losses.push(scope(() => {
        const { loss } = model.loss(tensor(x, [B, T], 'int32'), tensor(y, [B, T], 'int32'));
        loss.backward();
        return loss.item();
      }));
      scope(() => clipGradNormSq_(params, 1.0));
      opt.step();
      opt.zeroGrad();
    }
    return { losses, model };
  });
}

test('webgpu: 50 steps of tiny-model training follow the CPU loss curve, then greedy ids equal the CPU\'s', { skip, timeout: 600_000 }, () => {
  const webgpu = requireWebgpu();
  const cpu = loadCpuBackend() ?? jsBackend;
  const steps = 50;
  const ref = train(cpu, steps);
  const gpu = train(webgpu, steps);
  const d = gpu.losses.map((v, i) => Math.abs(v - ref.losses[i]));
  const max = Math.max(...d), mean = d.reduce((a, b) => a + b, 0) / d.length;
  console.log(`# webgpu: loss ${gpu.losses[0].toFixed(4)} -> ${gpu.losses[steps - 1].toFixed(4)} (cpu ${ref.losses[0].toFixed(4)} -> ${ref.losses[steps - 1].toFixed(4)}), |diff| max ${max.toExponential(2)} mean ${mean.toExponential(2)}`);
  // fp32 on both sides: the curves differ by summation order only (lavapipe: max 1.3e-6)
  assert.ok(max < 3e-5, `every loss within 3e-5 of the cpu's (|diff| max ${max.toExponential(2)}, mean ${mean.toExponential(2)})`);
  assert.ok(ref.losses[steps - 1] < ref.losses[0] - 1, 'the CPU run learns (the curve is worth comparing)');

  // greedy generation from the same (CPU-trained) weights on both backends
  const state = new Map(ref.model.namedParameters().map(([n, p]) => [n, p.toArray() as Float32Array] as const));
  withBackend(webgpu, () => {
    for (const [n, p] of gpu.model.namedParameters()) {
      const src = tensor(state.get(n)!, p.shape, 'float32', webgpu);
      webgpu.copy(p.buf, src.buf, p.size);
      src.dispose();
    }
  });
  const prompt = Array.from(batchOf(1, 12, 256, 99).x);
  const onCpu = withBackend(cpu, () => generate(ref.model, prompt, { maxNewTokens: 40, temperature: 0, stopTokenIds: [] })[0].ids);
  const onGpu = withBackend(webgpu, () => generate(gpu.model, prompt, { maxNewTokens: 40, temperature: 0, stopTokenIds: [] })[0].ids);
  assert.deepEqual(onGpu, onCpu, 'greedy ids on WebGPU equal the CPU\'s');
  for (const m of [ref.model, gpu.model]) m.dispose();
});
