// Shared helpers for the model tests: reading the PyTorch parity fixtures and comparing tensors.
import { existsSync } from 'node:fs';
import { readSafetensors, toFloat32, toInt32, type HostTensor } from '../../src/formats/safetensors.js';
import { configFromDict, type MiniMindConfig } from '../../src/model/config.js';
import type { Module } from '../../src/nn/index.js';

export const FIXTURES = 'test/fixtures';

export interface Fixture {
  config: MiniMindConfig;
  raw: Record<string, unknown>;
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
  /** param.<name> as a state dict. */
  params: Map<string, { shape: number[]; data: Float32Array }>;
}

export function fixturePath(variant: string): string {
  return `${FIXTURES}/model-${variant}.safetensors`;
}

export function haveFixture(variant: string): boolean {
  return existsSync(fixturePath(variant));
}

export function loadFixture(file: string): Fixture {
  const { tensors, metadata } = readSafetensors(file);
  const raw = JSON.parse(metadata.config) as Record<string, unknown>;
  const config = configFromDict(raw, file);
  const params = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of tensors) if (k.startsWith('param.')) params.set(k.slice(6), { shape: t.shape, data: toFloat32(t) });
  return { config, raw, tensors, metadata, params };
}

export function f32(fx: Fixture, name: string): Float32Array {
  const t = fx.tensors.get(name);
  if (!t) throw new Error(`fixture has no tensor ${name}`);
  return toFloat32(t);
}

export function i32(fx: Fixture, name: string): Int32Array {
  const t = fx.tensors.get(name);
  if (!t) throw new Error(`fixture has no tensor ${name}`);
  return toInt32(t);
}

/** max|a - b| / max|b| (max|a - b| when b is all zeros). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths ${a.length} and ${b.length} differ`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

export function zeroGrads(m: Module): void {
  for (const p of m.parameters()) {
    p.grad?.dispose();
    p.grad = null;
  }
}

export function argmax(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  let best = start;
  for (let i = start + 1; i < start + n; i++) if (a[i] > a[best]) best = i;
  return best - start;
}
