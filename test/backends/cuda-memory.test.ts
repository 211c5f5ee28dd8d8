// GPU memory on the CUDA backend: the allocator's cap (--max-gpu-memory) fails an allocation as a
// full card would, with an error the CLI prints as one line; gradient checkpointing gives the plain
// run's gradients with a fraction of its peak memory; --batch-size auto picks a micro-batch that
// fits a cap the whole global batch does not. Needs a GPU (`npm run test:cuda`); skipped elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCudaBackend, cudaLoadError, type CudaBackend } from '../../src/backends/cuda/index.js';
import { getBackend, setBackend } from '../../src/core/device.js';
import { isOutOfMemory } from '../../src/core/errors.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { Rng } from '../../src/core/random.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { lmTask } from '../../src/train/lm-task.js';
import { autoBatch, PROBE_HEADROOM } from '../../src/train/auto-batch.js';
import { openDataset } from '../../src/data/datasets.js';
import { FakeTokenizer } from '../data/fake-tokenizer.js';
import { relErr } from './kernel-helpers.js';

const cuda = loadCudaBackend();
const skip = cuda === null ? `CUDA backend unavailable: ${cudaLoadError()}` : false;
const MiB = 2 ** 20;

function onCuda<T>(fn: (gpu: CudaBackend) => T): T {
  const prev = getBackend();
  setBackend(cuda!);
  cuda!.setMatmulPrecision('bf16');
  try {
    return fn(cuda!);
  } finally {
    cuda!.setMemoryLimit(0);
    cuda!.setMatmulPrecision('fp32');
    setBackend(prev);
  }
}

test('cuda --max-gpu-memory: an allocation past the cap fails as out of memory, naming the cap; freeing makes room again', { skip }, () =>
  onCuda((gpu) => {
    const live = gpu.memoryStats().live;
    gpu.setMemoryLimit(live + 64 * MiB);
    const held = [0, 1, 2].map(() => gpu.alloc('float32', 4 * MiB)); // 3 x 16 MiB
    assert.throws(() => gpu.alloc('float32', 8 * MiB), (e: Error) => isOutOfMemory(e) && /GPU out of memory: 32 MiB more with \d+ MiB in use passes the --max-gpu-memory cap of \d+ MiB; use --batch-size auto/.test(e.message));
    gpu.free(held.pop()!);
    const again = gpu.alloc('float32', 4 * MiB); // the freed block, from the cache
    gpu.free(again);
    gpu.free(held.pop()!);
    const bigger = gpu.alloc('float32', 8 * MiB); // 32 MiB: the cache of 16 MiB blocks goes back to make room
    for (const b of [bigger, ...held]) gpu.free(b);
    gpu.setMemoryLimit(0);
    gpu.free(gpu.alloc('float32', 64 * MiB)); // no cap
  }));

// The step's loss, gradients, and the most device memory it added to what was live before it.
function lossAndGrads(model: MiniMindForCausalLM, ids: Int32Array, B: number, T: number, gpu: CudaBackend): { loss: number; grads: Float32Array[]; peak: number } {
  const params = model.parameters();
  for (const p of params) p.disposeGrad();
  gpu.synchronize();
  gpu.resetPeak();
  const before = gpu.memoryStats().live;
  const loss = scope(() => {
    const l = model.loss(tensor(ids, [B, T], 'int32'), ids).loss;
    l.backward();
    return l.item();
  });
  const peak = gpu.memoryStats().peak - before;
  return { loss, grads: params.map((p: Tensor) => Float32Array.from(p.grad!.toArray() as Float32Array)), peak };
}

test('cuda gradient checkpointing (bf16): the plain run\'s loss and gradients with far less peak memory', { skip }, () =>
  onCuda((gpu) => {
    const model = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: 512, hidden_size: 128, num_hidden_layers: 8, max_position_embeddings: 512 }), { seed: 3 });
    const B = 8, T = 512;
    const rng = new Rng(5);
    const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 512));
    const plain = lossAndGrads(model, ids, B, T, gpu);
    model.gradientCheckpointing = true;
    const ckpt = lossAndGrads(model, ids, B, T, gpu);
    // scatter-adds (embedding, GQA heads) use atomics: equal up to float rounding, not bit for bit
    assert.ok(Math.abs(ckpt.loss - plain.loss) <= 1e-6 * plain.loss, `loss ${ckpt.loss} vs ${plain.loss}`);
    plain.grads.forEach((g, i) => assert.ok(relErr(ckpt.grads[i], g) < 1e-4, `gradient ${i}: rel err ${relErr(ckpt.grads[i], g)}`));
    console.log(`memory a step adds (MiB): plain ${(plain.peak / MiB).toFixed(1)}, checkpointed ${(ckpt.peak / MiB).toFixed(1)}`);
    assert.ok(ckpt.peak < 0.5 * plain.peak, `checkpointed step adds ${ckpt.peak / MiB} MiB, plain ${plain.peak / MiB} MiB`);
    model.dispose();
  }));

test('cuda --batch-size auto: under a cap the global batch does not fit, a smaller micro-batch that does, accumulation keeping the global batch', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-cuda-auto-'));
  try {
    const f = join(dir, 'p.jsonl');
    writeFileSync(f, Array.from({ length: 32 }, (_, i) => JSON.stringify({ text: 'abcdefgh'.repeat(8 + (i % 5)) })).join('\n'));
    const ds = await openDataset({ kind: 'pretrain', files: [f], tokenizer: new FakeTokenizer(), tokenizerKey: 'fake', maxLength: 128, cacheDir: join(dir, 'cache') });
    onCuda((gpu) => { // (synchronous: onCuda restores the CPU backend when fn returns)
      // rows of 1024 tokens (the probe pads to the run's length), so activations outweigh the fixed costs
      const L = 1024;
      const model = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: 512, hidden_size: 256, num_hidden_layers: 4, max_position_embeddings: 2048 }), { seed: 3 });
      const task = lmTask(model, ds, null, 0, dir, L);
      // the peak of one step of 16 and of 2 rows: a cap between them
      const peakOf = (rows: number) => {
        const r = autoBatch(gpu, task, rows, L, 0);
        assert.equal(r.batchSize, rows, 'fits the whole card');
        gpu.synchronize();
        gpu.resetPeak();
        autoBatch(gpu, task, rows, L, 0);
        return gpu.memoryStats().peak;
      };
      const p16 = peakOf(16);
      const p2 = peakOf(2);
      assert.ok(p2 < p16 * 0.6, `2 rows ${p2} vs 16 rows ${p16}`);
      gpu.releaseCached();
      const cap = Math.ceil((p2 + p16) / 2 / PROBE_HEADROOM);
      const fit = autoBatch(gpu, task, 16, L, cap);
      console.log(`peak MiB of a probe: 16 rows ${(p16 / MiB).toFixed(0)}, 2 rows ${(p2 / MiB).toFixed(0)}; cap ${(cap / MiB).toFixed(0)} -> micro-batch ${fit.batchSize}`);
      assert.ok(fit.batchSize >= 2 && fit.batchSize < 16, `micro-batch ${fit.batchSize} under a cap of ${cap / MiB} MiB`);
      assert.equal(fit.batchSize * fit.accumulationSteps, 16);
      model.dispose();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const TOK = '../shared/data/minimind-tokenizer/head';
test('cuda: `minimind pretrain --max-gpu-memory` too small for the model is one line and exit code 2, nothing written', { skip: skip || (!existsSync(TOK) && `cuda test: ${TOK} not found (shared data absent)`) }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-cuda-cap-'));
  try {
    const f = join(dir, 'p.jsonl');
    writeFileSync(f, Array.from({ length: 16 }, () => JSON.stringify({ text: 'hello world, hello GPU' })).join('\n'));
    const out = join(dir, 'run');
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'pretrain', '--data', f, '--tokenizer', TOK, '--out', out, '--device', 'cuda', '--max-gpu-memory', '8M', '--preset', 'minimind-3', '--quiet'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^minimind: GPU out of memory: .* passes the --max-gpu-memory cap of 8 MiB; use --batch-size auto/);
    assert.ok(!existsSync(out), 'no run folder left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
