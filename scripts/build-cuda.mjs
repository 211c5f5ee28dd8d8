// Builds the CUDA backend (src/backends/cuda) with nvcc into build-cuda/minimind_cuda.node (not build/,
// which node-gyp rebuild empties), at
// `npm install` and by `npm run build:cuda`. Needs nvcc and the CUDA runtime headers only: cuBLAS
// is loaded at run time, and the CUDA runtime is linked statically, so the addon runs wherever an
// NVIDIA driver is. Without nvcc this prints one line and exits 0 (the CPU backends still work).
// A compile error is printed and fails the install only under MINIMIND_CI_STRICT=1 (CI), so a broken
// kernel file fails CI while users without a working toolkit can still install.
// Targets: MINIMIND_CUDA_ARCH (default "90": sm_90 machine code for Hopper, plus compute_90 PTX
// that newer GPUs compile at load). Several: MINIMIND_CUDA_ARCH="80,90".
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';

const strict = process.env.MINIMIND_CI_STRICT === '1';
const src = 'src/backends/cuda';
const out = join('build-cuda', 'minimind_cuda.node');

function findNvcc() {
  const candidates = [process.env.NVCC, process.env.CUDA_HOME && join(process.env.CUDA_HOME, 'bin', 'nvcc'), '/usr/local/cuda/bin/nvcc'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : null;
}

function nodeHeaders() {
  const candidates = [process.env.NODE_HEADERS_DIR, process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'), join(dirname(dirname(process.execPath)), 'include', 'node')];
  for (const c of candidates) if (c && existsSync(join(c, 'node_api.h'))) return c;
  return null;
}

const nvcc = findNvcc();
if (!nvcc) {
  console.log('minimind: no nvcc found, so the CUDA backend was not built (CPU backends only; install the CUDA toolkit and run `npm run build:cuda` for GPUs)');
  process.exit(0);
}
const headers = nodeHeaders();
if (!headers) {
  console.warn('minimind: the CUDA backend was not built: Node.js headers (node_api.h) were not found; set NODE_HEADERS_DIR');
  process.exit(strict ? 1 : 0);
}
const sources = readdirSync(src).filter((f) => f.endsWith('.cc') || f.endsWith('.cu')).map((f) => join(src, f));
// Up to date: skip the 20-second compile when no source is newer than the addon.
if (existsSync(out) && process.argv[2] !== '--force') {
  const built = statSync(out).mtimeMs;
  const newest = Math.max(...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs), statSync(new URL(import.meta.url)).mtimeMs);
  if (newest < built) process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
const arches = (process.env.MINIMIND_CUDA_ARCH ?? '90').split(',').map((a) => a.trim()).filter(Boolean);
const gencode = arches.flatMap((a) => ['-gencode', `arch=compute_${a},code=sm_${a}`]);
const last = arches[arches.length - 1];
gencode.push('-gencode', `arch=compute_${last},code=compute_${last}`);
const args = ['-std=c++17', '-O3', ...gencode, '-Xcompiler', '-fPIC', '-shared', `-I${headers}`, '-DNODE_GYP_MODULE_NAME=minimind_cuda',
  ...sources, '-o', out, '-lcudart_static', '-ldl', '-lrt', '-lpthread'];
const r = spawnSync(nvcc, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write((r.stdout ?? '') + (r.stderr ?? ''));
  console.warn(`minimind: the CUDA backend did not build (nvcc exit ${r.status}); CPU backends only`);
  process.exit(strict ? 1 : 0);
}
console.log(`minimind: built the CUDA backend (${out}, sm_${arches.join(', sm_')})`);
