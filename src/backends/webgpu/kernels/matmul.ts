// GEMM: out (M, N) (+)= op(a) (M, K) @ op(b) (K, N), a stored (M, K) or (K, M) when transA, b
// stored (K, N) or (N, K) when transB (the js backend's matmul.ts). A 128x128 output tile per
// workgroup of 256 threads, each thread an 8x8 block held in registers; K is walked in slices of
// 8 staged in workgroup memory, each operand loaded along its contiguous axis (so every transpose
// case reads memory in order) and stored padded (stride 132) to spread workgroup-memory banks.
// One WGSL variant per (transA, transB).
import type { Runtime } from '../runtime.js';
import { kernel } from '../wgsl.js';

const BM = 128, BN = 128, BK = 8, STRIDE = 132;

function source(transA: boolean, transB: boolean): string {
  const regs: string[] = [];
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) regs.push(`c${i}${j}`);
  const fma: string[] = [];
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) fma.push(`c${i}${j} = fma(a${i}, b${j}, c${i}${j});`);
  const loadRegs: string[] = [];
  for (let i = 0; i < 8; i++) loadRegs.push(`let a${i} = As[k * ${STRIDE}u + ty + ${i * 16}u]; let b${i} = Bs[k * ${STRIDE}u + tx + ${i * 16}u];`);
  const stores: string[] = [];
  for (let i = 0; i < 8; i++) {
    stores.push(`r = m0 + ty + ${i * 16}u; if (r < p.M) {`);
    for (let j = 0; j < 8; j++) stores.push(`  c = n0 + tx + ${j * 16}u; if (c < p.N) { if (p.acc != 0u) { out[r * p.N + c] += c${i}${j}; } else { out[r * p.N + c] = c${i}${j}; } }`);
    stores.push('}');
  }
  // tile loads: 1024 elements of each operand, 4 per thread, consecutive threads on the operand's contiguous axis
  const loadA = transA
    ? `let am = e % ${BM}u; let ak = e / ${BM}u; var av = 0.0; if (m0 + am < p.M && k0 + ak < p.K) { av = a[(k0 + ak) * p.M + m0 + am]; }`
    : `let am = e / ${BK}u; let ak = e % ${BK}u; var av = 0.0; if (m0 + am < p.M && k0 + ak < p.K) { av = a[(m0 + am) * p.K + k0 + ak]; }`;
  const loadB = transB
    ? `let bn = e / ${BK}u; let bk = e % ${BK}u; var bv = 0.0; if (n0 + bn < p.N && k0 + bk < p.K) { bv = b[(n0 + bn) * p.K + k0 + bk]; }`
    : `let bn = e % ${BN}u; let bk = e / ${BN}u; var bv = 0.0; if (n0 + bn < p.N && k0 + bk < p.K) { bv = b[(k0 + bk) * p.N + n0 + bn]; }`;
  return `var<workgroup> As: array<f32, ${BK * STRIDE}>;
var<workgroup> Bs: array<f32, ${BK * STRIDE}>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let tx = li % 16u;
  let ty = li / 16u;
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  ${regs.map((r) => `var ${r} = 0.0;`).join(' ')}
  for (var k0 = 0u; k0 < p.K; k0 += ${BK}u) {
    for (var q = 0u; q < 4u; q++) {
      let e = li + q * 256u;
      ${loadA}
      As[ak * ${STRIDE}u + am] = av;
      ${loadB}
      Bs[bk * ${STRIDE}u + bn] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < ${BK}u; k++) {
      ${loadRegs.join('\n      ')}
      ${fma.join(' ')}
    }
    workgroupBarrier();
  }
  var r: u32; var c: u32;
  ${stores.join('\n  ')}
}`;
}

// out (N) (+)= op(b) applied to one row a (K): a workgroup per 64 outputs, 4 threads per output
// splitting K (decode's matrix-vector products, where a 128-row tile would be mostly idle).
function gemvSource(transB: boolean): string {
  const dot = transB
    ? 'for (var k = part; k < p.K; k += 4u) { s += a[k] * b[n * p.K + k]; }'
    : 'for (var k = part; k < p.K; k += 4u) { s += a[k] * b[k * p.N + n]; }';
  return `var<workgroup> sums: array<f32, 256>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let part = li / 64u;
  let n = wid.x * 64u + li % 64u;
  var s = 0.0;
  if (n < p.N) { ${dot} }
  sums[li] = s;
  workgroupBarrier();
  if (li < 64u && n < p.N) {
    let t = sums[li] + sums[li + 64u] + sums[li + 128u] + sums[li + 192u];
    if (p.acc != 0u) { out[n] += t; } else { out[n] = t; }
  }
}`;
}

export function matmul(rt: Runtime, out: number, a: number, b: number, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  const params = [M, N, K, accumulate ? 1 : 0];
  if (M === 1 && N >= 64) {
    // one row: (transA does not matter: a is K contiguous floats either way)
    const k = kernel(`gemv_${+transB}`, 'M:u32 N:u32 K:u32 acc:u32', 'out:f32:w a:f32:r b:f32:r', () => gemvSource(transB));
    rt.dispatch(k, [out, a, b], params, [Math.ceil(N / 64)]);
    return;
  }
  const k = kernel(`matmul_${+transA}${+transB}`, 'M:u32 N:u32 K:u32 acc:u32', 'out:f32:w a:f32:r b:f32:r', () => source(transA, transB));
  rt.dispatch(k, [out, a, b], params, [Math.ceil(N / BN), Math.ceil(M / BM)]);
}
