// The native CPU backend's kernels for batched decode steps (a server decoding several streams at
// once) against the js backend:
// - C (+)= X W^T for 1..16 rows of X, where fp32 weights go through the GEMV kernels (4x4 register
//   tiles from 4 rows of X on AVX-512). Row counts cover every tile remainder (M mod 4), column
//   counts every W-row remainder (N mod 4) and the split over threads (which starts at a smaller W for
//   more rows); K covers the masked tail.
// - attentionDecode: S sequences' new k/v rows written into their own caches and one query each
//   attended over its positions, against the js definition (attentionForward per sequence).
// Skips only when the addon did not build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededInputs, close } from './kernel-helpers.js';
import { jsBackend } from '../../src/backends/js/index.js';
import { loadCpuBackend, cpuLoadError } from '../../src/backends/cpu/index.js';

const cpu = loadCpuBackend();
const skip = cpu === null ? `native CPU backend not built: ${cpuLoadError()}` : false;
const { rand, randInt } = seededInputs(777);

test('fp32 X W^T for 1..16 rows (decode steps): every ISA path and thread count matches js', { skip }, () => {
  const be = cpu!;
  const prevIsa = be.isa() as Parameters<typeof be.setIsa>[0];
  const prevThreads = be.getThreads();
  try {
    for (const isa of ['avx512', 'avx2', 'generic'] as const) {
      be.setIsa(isa);
      for (const threads of [1, 2]) {
        be.setThreads(threads);
        // the last two are split over 2 threads: from M = 1 on (N x K >= 2 x 65536 floats), and only
        // for M >= 5, where the 4x4 tiles make 2+ passes over W
        for (const [N, K] of [[64, 64], [130, 100], [37, 513], [259, 48], [6, 1024], [261, 520], [301, 260]]) {
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

test('attentionDecode: every sequence writes its own cache row and attends its own positions (GQA, 1 and 2 threads)', { skip }, () => {
  const be = cpu!;
  const prevThreads = be.getThreads();
  try {
    for (const threads of [1, 2]) {
      be.setThreads(threads);
      for (const [H, KVH, D] of [[8, 2, 64], [4, 4, 32], [6, 1, 16], [8, 4, 48], [8, 4, 96]]) {
        for (const S of [1, 3, 16]) {
          const inner = KVH * D;
          const caps = Array.from({ length: S }, (_, s) => 8 + ((s * 37) % 300));
          const pos = Int32Array.from(caps, (c, s) => (s === 0 ? 0 : randInt(1, c)[0])); // position 0 (no history) included
          const q = rand(S * H * D, 2), k = rand(S * inner, 2), v = rand(S * inner);
          const kc = caps.map((c) => rand(c * inner, 2)), vc = caps.map((c) => rand(c * inner));
          const run = (b: typeof be | typeof jsBackend) => {
            const out = new Float32Array(S * H * D);
            const kcs = kc.map((c) => c.slice()), vcs = vc.map((c) => c.slice());
            b.attentionDecode!(out, q, k, v, kcs, vcs, pos, S, H, KVH, D, 1 / Math.sqrt(D));
            return { out, kcs, vcs };
          };
          const want = run(jsBackend), got = run(be);
          const what = `${threads} threads H=${H} KVH=${KVH} D=${D} S=${S}`;
          close(got.out, want.out, `${what} out`, 1e-5);
          got.kcs.forEach((c, s) => close(c, want.kcs[s], `${what} k cache ${s}`, 0));
          got.vcs.forEach((c, s) => close(c, want.vcs[s], `${what} v cache ${s}`, 0));
          // the new row landed at its position and nothing else moved
          assert.deepEqual(Array.from(got.kcs[S - 1].subarray(pos[S - 1] * inner, (pos[S - 1] + 1) * inner)), Array.from(k.subarray((S - 1) * inner, S * inner)));
        }
      }
    }
  } finally {
    be.setThreads(prevThreads);
  }
  assert.throws(() => be.attentionDecode!(new Float32Array(8), new Float32Array(8), new Float32Array(8), new Float32Array(8), [new Float32Array(8)], [new Float32Array(8)], Int32Array.of(1), 1, 1, 1, 8, 1), /too few for position 1/);
});
