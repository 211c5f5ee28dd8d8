// The native CPU backend's decode GEMMs against the js backend: C (+)= X W^T for 1..16 rows of X,
// the shapes of a batched decode step (a server decoding several streams at once), where fp32
// weights go through the GEMV kernels (4x4 register tiles from 4 rows of X on AVX-512). Row
// counts cover every tile remainder (M mod 4), column counts every W-row remainder (N mod 4) and
// the split over threads; K covers the masked tail (K mod 16). Skips only when the addon did not build.
import { test } from 'node:test';
import { seededInputs, close } from './kernel-helpers.js';
import { jsBackend } from '../../src/backends/js/index.js';
import { loadCpuBackend, cpuLoadError } from '../../src/backends/cpu/index.js';

const cpu = loadCpuBackend();
const skip = cpu === null ? `native CPU backend not built: ${cpuLoadError()}` : false;
const { rand } = seededInputs(777);

test('fp32 X W^T for 1..16 rows (decode steps): every ISA path and thread count matches js', { skip }, () => {
  const be = cpu!;
  const prevIsa = be.isa() as Parameters<typeof be.setIsa>[0];
  const prevThreads = be.getThreads();
  try {
    for (const isa of ['avx512', 'avx2', 'generic'] as const) {
      be.setIsa(isa);
      for (const threads of [1, 2]) {
        be.setThreads(threads);
        for (const [N, K] of [[64, 64], [130, 100], [37, 513], [259, 48], [6, 1024]]) {
          for (let M = 1; M <= 16; M++) {
            for (const acc of [false, true]) {
              const x = rand(M * K), w = rand(N * K), c0 = rand(M * N);
              const want = c0.slice(), got = c0.slice();
              jsBackend.matmul(want, x, w, M, N, K, false, true, acc);
              be.matmul(got, x, w, M, N, K, false, true, acc);
              close(got, want, `${be.isa()} ${threads} threads M=${M} N=${N} K=${K} acc=${acc}`, 1e-5);
            }
          }
        }
      }
    }
  } finally {
    be.setIsa(prevIsa);
    be.setThreads(prevThreads);
  }
});
