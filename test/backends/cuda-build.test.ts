// Where nvcc is installed, `npm install` must have built the CUDA addon, and the addon must load
// and link (every symbol resolved): on a machine without a GPU it then reports that no GPU was
// found, instead of "not built" or a dynamic-linker error. So a broken CUDA source fails the
// ordinary test run on the CPU machines that have nvcc (CI), not only on a GPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadCudaBackend, cudaLoadError, cudaAddonPath } from '../../src/backends/cuda/index.js';

const nvcc = existsSync('/usr/local/cuda/bin/nvcc') || spawnSync('sh', ['-c', 'command -v nvcc']).status === 0;

test('the CUDA addon is built where nvcc exists, and loads (a GPU, or a clear "no GPU" line)', { skip: nvcc ? false : 'no nvcc on this machine, so no CUDA addon to check' }, () => {
  assert.ok(existsSync(cudaAddonPath()), `${cudaAddonPath()} is missing although nvcc is installed (npm install or npm run build:cuda should build it)`);
  const be = loadCudaBackend();
  if (be) {
    assert.equal(be.device, 'cuda');
    return;
  }
  assert.match(cudaLoadError() ?? '', /no NVIDIA GPU|no usable CUDA device|no CUDA device/, 'the addon loaded and reported the missing GPU');
});
