// Weight-for-weight parity with MiniMind in PyTorch (fixtures from tools/gen_model_fixtures.py,
// float64 reference): logits, loss, aux loss, every gradient, KV-cache decoding and greedy ids,
// for each era (v1, v1-moe, minimind2, minimind3, minimind3-moe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scope, tensor, noGrad, withBackend } from '../../src/core/index.js';
import type { Backend } from '../../src/backends/backend.js';
import { jsBackend } from '../../src/backends/js/index.js';
import { loadCpuBackend, cpuLoadError } from '../../src/backends/cpu/index.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { argmax, f32, fixturePath, haveFixture, i32, loadFixture, relErr, zeroGrads } from './helpers.js';

const VARIANTS = ['v1', 'v1-moe', 'minimind2', 'minimind3', 'minimind3-moe'];
// Relative error bounds (max |ours − PyTorch| / max |PyTorch|), a few times what both backends
// achieve in fp32 (logits ≤ 1e-6, gradients ≤ 2e-6; the report at the end prints the figures).
// A 10% wrong rms_norm_eps must fail them (see the mutation test below).
const TOL = { logits: 5e-6, loss: 5e-6, grad: 1e-5 };
const report: string[] = [];
let started = 0; // checks that began; each must add its line to the report

const cpu = loadCpuBackend();
const BACKENDS: [string, Backend | null, string][] = [['js', jsBackend, ''], ['cpu', cpu, `native backend unavailable: ${cpuLoadError()}`]];

for (const [beName, backend, why] of BACKENDS)
for (const variant of VARIANTS) {
  const skip = !backend ? why : haveFixture(variant) ? false : `${fixturePath(variant)} not found (run tools/gen_model_fixtures.py)`;
  const be = backend ?? jsBackend;
  const label = `${variant} [${beName}]`;

  test(`parity ${label}: logits, loss, aux loss and every gradient match PyTorch`, { skip }, () => withBackend(be, () => {
    started++;
    const fx = loadFixture(fixturePath(variant));
    const model = new MiniMindForCausalLM(fx.config);
    model.loadStateDict(fx.params);
    const ids = i32(fx, 'input_ids');
    const labels = i32(fx, 'labels');
    const [B, T] = fx.tensors.get('input_ids')!.shape;
    scope(() => {
      const x = tensor(ids, [B, T], 'int32');
      const y = tensor(labels, [B, T], 'int32');
      const { logits } = model.forward(x);
      const eLogits = relErr(logits.toArray(), f32(fx, 'logits'));
      assert.ok(eLogits < TOL.logits, `logits rel err ${eLogits}`);
      zeroGrads(model);
      const { loss, logitsLoss, auxLoss } = model.loss(x, y);
      const eLoss = relErr([logitsLoss.item()], f32(fx, 'loss'));
      const eTotal = relErr([loss.item()], f32(fx, 'total_loss'));
      const refAux = f32(fx, 'aux_loss')[0];
      const aux = auxLoss ? auxLoss.item() : 0;
      const eAux = relErr([aux], [refAux]);
      assert.ok(eLoss < TOL.loss, `loss ${logitsLoss.item()} vs ${f32(fx, 'loss')[0]}`);
      assert.ok(eAux < TOL.loss, `aux ${aux} vs ${refAux}`);
      assert.ok(eTotal < TOL.loss, `total ${loss.item()} vs ${f32(fx, 'total_loss')[0]}`);
      if (fx.config.use_moe) assert.ok(auxLoss && refAux > 0, 'MoE fixtures have a non-zero aux loss');
      loss.backward();
      let worst = 0;
      let worstName = '';
      let n = 0;
      for (const [name, p] of model.namedParameters()) {
        const ref = f32(fx, `grad.${name}`);
        const got = p.grad ? p.grad.toArray() : new Float32Array(p.size);
        const e = relErr(got, ref);
        n++;
        if (e > worst) { worst = e; worstName = name; }
        assert.ok(e < TOL.grad, `grad ${name}: rel err ${e}`);
      }
      assert.equal(n, [...fx.tensors.keys()].filter((k) => k.startsWith('grad.')).length, 'every fixture gradient is checked');
      report.push(`${label}: logits ${eLogits.toExponential(2)}, loss ${eLoss.toExponential(2)}, aux ${eAux.toExponential(2)} (${aux.toFixed(6)}), total ${eTotal.toExponential(2)}, worst grad ${worst.toExponential(2)} (${worstName}, ${n} tensors)`);
    });
    zeroGrads(model);
    model.dispose();
  }));

  test(`parity ${label}: KV-cache decoding equals full recomputation; greedy ids match PyTorch`, { skip }, () => withBackend(be, () => {
    started++;
    const fx = loadFixture(fixturePath(variant));
    const model = new MiniMindForCausalLM(fx.config);
    model.loadStateDict(fx.params);
    model.eval();
    const ids = i32(fx, 'input_ids');
    const [B, T] = fx.tensors.get('input_ids')!.shape;
    const V = fx.config.vocab_size;
    noGrad(() => scope(() => {
      const full = model.forward(tensor(ids, [B, T], 'int32')).logits.toArray();
      // prefill 6 positions, then one token at a time, on both rows at once; a small initial
      // capacity makes the cache grow (and copy) on the way.
      const cache = model.newCache(B, 4);
      const P = 6;
      const pre = new Int32Array(B * P);
      for (let b = 0; b < B; b++) pre.set(ids.subarray(b * T, b * T + P), b * P);
      const got = new Float32Array(B * T * V);
      const first = model.forward(tensor(pre, [B, P], 'int32'), { cache }).logits.toArray();
      for (let b = 0; b < B; b++) got.set(first.subarray(b * P * V, (b + 1) * P * V), b * T * V);
      for (let t = P; t < T; t++) {
        const step = model.forward(tensor([ids[t], ids[T + t]], [B, 1], 'int32'), { cache, lastOnly: true }).logits.toArray();
        for (let b = 0; b < B; b++) got.set(step.subarray(b * V, (b + 1) * V), (b * T + t) * V);
      }
      assert.equal(cache.length, T);
      const e = relErr(got, full);
      assert.ok(e < 1e-5, `cached vs full logits rel err ${e}`);
      cache.dispose();

      // greedy from the first prompt_len ids of row 0
      const want = Array.from(i32(fx, 'greedy_ids'));
      const promptLen = Number(fx.metadata.greedy_prompt_len ?? 5);
      const c2 = model.newCache(1);
      let logits = model.forward(tensor(ids.slice(0, promptLen), [1, promptLen], 'int32'), { cache: c2, lastOnly: true }).logits.toArray();
      const out: number[] = [];
      for (let i = 0; i < want.length; i++) {
        const next = argmax(logits);
        out.push(next);
        if (i + 1 < want.length) logits = model.forward(tensor([next], [1, 1], 'int32'), { cache: c2, lastOnly: true }).logits.toArray();
      }
      assert.deepEqual(out, want);
      report.push(`${label}: cached-vs-full ${e.toExponential(2)}, greedy ${JSON.stringify(out)} == fixture`);
      c2.dispose();
    }));
    model.dispose();
  }));
}

// The bounds above must catch a small modelling mistake: the same weights with rms_norm_eps 10%
// off (1e-5 → 1.1e-5; at the old 1e-4 / 1e-3 bounds this passed), or for minimind-3 (1e-6) the
// older eras' 1e-5, give logits and gradients outside them.
const wrongEps = (eps: number) => (eps < 5e-6 ? 1e-5 : eps * 1.1);
for (const variant of VARIANTS) {
  const skip = haveFixture(variant) ? false : `${fixturePath(variant)} not found (run tools/gen_model_fixtures.py)`;
  test(`parity ${variant}: a model with a wrong rms_norm_eps fails the parity bounds`, { skip }, () => withBackend(jsBackend, () => {
    started++;
    const fx = loadFixture(fixturePath(variant));
    const model = new MiniMindForCausalLM({ ...fx.config, rms_norm_eps: wrongEps(fx.config.rms_norm_eps) });
    model.loadStateDict(fx.params);
    const [B, T] = fx.tensors.get('input_ids')!.shape;
    scope(() => {
      const x = tensor(i32(fx, 'input_ids'), [B, T], 'int32');
      const eLogits = relErr(model.forward(x).logits.toArray(), f32(fx, 'logits'));
      zeroGrads(model);
      model.loss(x, tensor(i32(fx, 'labels'), [B, T], 'int32')).loss.backward();
      const worst = Math.max(...model.namedParameters().map(([name, p]) => relErr(p.grad ? p.grad.toArray() : new Float32Array(p.size), f32(fx, `grad.${name}`))));
      assert.ok(eLogits > TOL.logits, `wrong eps: logits rel err ${eLogits} is within ${TOL.logits}`);
      assert.ok(worst > TOL.grad, `wrong eps: worst grad rel err ${worst} is within ${TOL.grad}`);
      report.push(`${variant} with eps ${fx.config.rms_norm_eps} → ${wrongEps(fx.config.rms_norm_eps)}: logits ${eLogits.toExponential(2)}, worst grad ${worst.toExponential(2)} (fails, as it must)`);
    });
    zeroGrads(model);
    model.dispose();
  }));
}

test('parity summary: every check that ran reported its figures', (t) => {
  for (const line of report) t.diagnostic(line);
  assert.equal(report.length, started);
});
