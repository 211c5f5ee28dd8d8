// Distillation against MiniMind's own arithmetic (tools/gen_distill_fixture.py: train_distillation.py's
// distillation_loss and train_epoch loss, in float64 PyTorch): the loss MiniMind logs, its CE and
// distill (T²·KL, 'batchmean') terms, and the gradient with respect to the student logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSafetensors, toFloat32, toInt32 } from '../../src/formats/safetensors.js';
import { tensor } from '../../src/core/tensor.js';
import { distillLoss } from '../../src/train/losses.js';

test('distillation: loss, ce and distill terms and the student gradient match MiniMind (PyTorch) within 1e-5', () => {
  const { tensors, metadata } = readSafetensors('test/fixtures/distill.safetensors');
  const { alpha, temperature } = JSON.parse(metadata.config) as { alpha: number; temperature: number };
  const s = tensors.get('student')!;
  const t = tensors.get('teacher')!;
  const [B, T, V] = s.shape;
  const student = tensor(toFloat32(s), [B, T, V]);
  student.requiresGrad = true;
  const r = distillLoss(student, toFloat32(t), t.shape[2], toInt32(tensors.get('labels')!), B, T, temperature, alpha);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  const loss = r.loss.item();
  assert.ok(rel(loss, Number(metadata.loss)) < 1e-5, `loss ${loss} vs MiniMind ${metadata.loss}`);
  assert.ok(rel(r.ce, Number(metadata.ce)) < 1e-5, `ce ${r.ce} vs MiniMind ${metadata.ce}`);
  assert.ok(rel(r.distill, Number(metadata.distill)) < 1e-5, `distill ${r.distill} vs MiniMind ${metadata.distill}`);
  r.loss.backward();
  const g = student.grad!.toArray();
  const want = toFloat32(tensors.get('grad')!);
  const scale = Math.max(...want.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(g[i] - want[i]) / scale);
  assert.ok(worst < 1e-5, `student gradient: max |ours − MiniMind| / max |MiniMind| = ${worst}`);
});
