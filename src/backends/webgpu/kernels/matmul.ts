// GEMM: out (M, N) (+)= op(a) (M, K) @ op(b) (K, N), a stored (M, K) or (K, M) when transA, b
// stored (K, N) or (N, K) when transB (the js backend's matmul.ts). A 128x128 output tile per
// workgroup of 256 threads, each thread an 8x8 block held in registers; K is walked in slices of
// 8 staged in workgroup memory, each operand loaded along its contiguous axis (so every transpose
// case reads memory in order) and stored padded (stride 132) to spread workgroup-memory banks.
// One WGSL variant per (transA, transB). Shapes whose M, N and K are multiples of 4 (every
// training GEMM of the MiniMind sizes) take the vec4 form of the same tiling below; one-row
// products a GEMV.
import type { Runtime } from '../runtime.js';
import { elementwise, grid, kernel, put } from '../wgsl.js';
import { process } from '../../../io/process.js';

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
    for (let j = 0; j < 8; j++) stores.push(`  c = n0 + tx + ${j * 16}u; if (c < p.N) { if (p.acc != 0u) { out[base + r * p.N + c] += c${i}${j}; } else { out[base + r * p.N + c] = c${i}${j}; } }`);
    stores.push('}');
  }
  // tile loads: 1024 elements of each operand, 4 per thread, consecutive threads on the operand's contiguous axis
  const loadA = transA
    ? `let am = e % ${BM}u; let ak = e / ${BM}u; var av = 0.0; if (m0 + am < p.M && k0 + ak < kEnd) { av = a[(k0 + ak) * p.M + m0 + am]; }`
    : `let am = e / ${BK}u; let ak = e % ${BK}u; var av = 0.0; if (m0 + am < p.M && k0 + ak < kEnd) { av = a[(m0 + am) * p.K + k0 + ak]; }`;
  const loadB = transB
    ? `let bn = e / ${BK}u; let bk = e % ${BK}u; var bv = 0.0; if (n0 + bn < p.N && k0 + bk < kEnd) { bv = b[(n0 + bn) * p.K + k0 + bk]; }`
    : `let bn = e % ${BN}u; let bk = e / ${BN}u; var bv = 0.0; if (n0 + bn < p.N && k0 + bk < kEnd) { bv = b[(k0 + bk) * p.N + n0 + bn]; }`;
  return `var<workgroup> As: array<f32, ${BK * STRIDE}>;
var<workgroup> Bs: array<f32, ${BK * STRIDE}>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let tx = li % 16u;
  let ty = li / 16u;
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  // split-K: slice wid.z takes k in [kBegin, kEnd) and writes its own (M, N) block of out
  let kBegin = wid.z * p.kChunk;
  let kEnd = min(p.K, kBegin + p.kChunk);
  let base = wid.z * p.M * p.N;
  ${regs.map((r) => `var ${r} = 0.0;`).join(' ')}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${BK}u) {
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

// The vec4 variant (all of M, N, K multiples of 4): operands read as vec4 along their contiguous
// axis, K slices of 16 staged as vec4 columns, each thread an 8x8 block of two 4-row by two
// 4-column groups, so a k step is 4 vec4 workgroup-memory reads for 64 FMAs (the scalar kernel
// above: 16 reads), and outputs are written as vec4.
const BK4 = 16;
function source4(transA: boolean, transB: boolean): string {
  const rows = [0, 1, 2, 3].flatMap((i) => [`a0.${'xyzw'[i]}`]).concat([0, 1, 2, 3].map((i) => `a1.${'xyzw'[i]}`));
  const cols = [0, 1, 2, 3].map((j) => `b0.${'xyzw'[j]}`).concat([0, 1, 2, 3].map((j) => `b1.${'xyzw'[j]}`));
  const fma: string[] = [];
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) fma.push(`c${i}${j} = fma(${rows[i]}, ${cols[j]}, c${i}${j});`);
  const regs: string[] = [];
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) regs.push(`var c${i}${j} = 0.0;`);
  // A tile (128 x 16) as 512 vec4, two per thread
  const loadA = transA
    ? `let k = e / 32u; let mq = e % 32u; var v = vec4f(0.0);
      if (k0 + k < kEnd && m0 + mq * 4u < p.M) { v = a[((k0 + k) * p.M + m0 + mq * 4u) / 4u]; }
      As[k * 32u + mq] = v;`
    : `let m = e / 4u; let kq = e % 4u; var v = vec4f(0.0);
      if (m0 + m < p.M && k0 + kq * 4u < kEnd) { v = a[((m0 + m) * p.K + k0 + kq * 4u) / 4u]; }
      let c = m % 4u;
      As[(kq * 4u + 0u) * 32u + m / 4u][c] = v.x; As[(kq * 4u + 1u) * 32u + m / 4u][c] = v.y;
      As[(kq * 4u + 2u) * 32u + m / 4u][c] = v.z; As[(kq * 4u + 3u) * 32u + m / 4u][c] = v.w;`;
  const loadB = transB
    ? `let n = e / 4u; let kq = e % 4u; var v = vec4f(0.0);
      if (n0 + n < p.N && k0 + kq * 4u < kEnd) { v = b[((n0 + n) * p.K + k0 + kq * 4u) / 4u]; }
      let c = n % 4u;
      Bs[(kq * 4u + 0u) * 32u + n / 4u][c] = v.x; Bs[(kq * 4u + 1u) * 32u + n / 4u][c] = v.y;
      Bs[(kq * 4u + 2u) * 32u + n / 4u][c] = v.z; Bs[(kq * 4u + 3u) * 32u + n / 4u][c] = v.w;`
    : `let k = e / 32u; let nq = e % 32u; var v = vec4f(0.0);
      if (k0 + k < kEnd && n0 + nq * 4u < p.N) { v = b[((k0 + k) * p.N + n0 + nq * 4u) / 4u]; }
      Bs[k * 32u + nq] = v;`;
  const stores: string[] = [];
  for (let i = 0; i < 8; i++) {
    const r = i < 4 ? `m0 + ty * 4u + ${i}u` : `m0 + 64u + ty * 4u + ${i - 4}u`;
    for (const [h, c0] of [[0, 'n0 + tx * 4u'], [1, 'n0 + 64u + tx * 4u']] as const) {
      const v = `vec4f(c${i}${h * 4}, c${i}${h * 4 + 1}, c${i}${h * 4 + 2}, c${i}${h * 4 + 3})`;
      stores.push(`r = ${r}; c = ${c0}; if (r < p.M && c < p.N) { let o = (base + r * p.N + c) / 4u; if (p.acc != 0u) { out[o] += ${v}; } else { out[o] = ${v}; } }`);
    }
  }
  return `var<workgroup> As: array<vec4f, ${BK4 * 32}>;
var<workgroup> Bs: array<vec4f, ${BK4 * 32}>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let tx = li % 16u;
  let ty = li / 16u;
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  // split-K: slice wid.z takes k in [kBegin, kEnd) and writes its own (M, N) block of out
  let kBegin = wid.z * p.kChunk;
  let kEnd = min(p.K, kBegin + p.kChunk);
  let base = wid.z * p.M * p.N;
  ${regs.join(' ')}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${BK4}u) {
    for (var q = 0u; q < 2u; q++) {
      let e = li + q * 256u;
      { ${loadA} }
      { ${loadB} }
    }
    workgroupBarrier();
    for (var k = 0u; k < ${BK4}u; k++) {
      let a0 = As[k * 32u + ty]; let a1 = As[k * 32u + 16u + ty];
      let b0 = Bs[k * 32u + tx]; let b1 = Bs[k * 32u + 16u + tx];
      ${fma.join(' ')}
    }
    workgroupBarrier();
  }
  var r: u32; var c: u32;
  ${stores.join('\n  ')}
}`;
}

/**
 * K slices for a product of `tiles` output tiles: 1, or enough that the slices fill ~256 workgroups
 * when the tiles alone would leave most of a large GPU idle and each slice keeps >= 1024 of K.
 */
export function splitK(tiles: number, K: number): number {
  if (tiles >= 128 || K < 2048) return 1;
  return Math.max(1, Math.min(16, Math.floor(K / 1024), Math.ceil(256 / tiles)));
}

/** Which tiled GEMM serves aligned shapes: 'vec4' (default) or 'scalar' (MINIMIND_WEBGPU_GEMM=scalar). */
const GEMM = process.env.MINIMIND_WEBGPU_GEMM === 'scalar' ? 'scalar' : 'vec4';

// out (N) (+)= op(b) applied to one row a (K), for decode's matrix-vector products, where a
// 128-row tile would be mostly idle. b (N, K) (a linear layer's weight): 8 outputs per workgroup,
// 32 threads per output reading its row in order and adding up in workgroup memory. b (K, N): a
// thread per output, consecutive threads on consecutive columns.
export const GEMV_ROWS = 8;
export function gemvRowsSource(outputs: string[], finish: string): string {
  return `var<workgroup> part: array<f32, ${256 * outputs.length}>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = wid.x * ${GEMV_ROWS}u + li / 32u;
  let lane = li % 32u;
  ${outputs.map((_, i) => `var s${i} = 0.0;`).join(' ')}
  if (n < p.N) {
    for (var k = lane; k < p.K; k += 32u) {
      let x = a[k];
      ${outputs.map((w, i) => `s${i} += x * ${w}[n * p.K + k];`).join(' ')}
    }
  }
  ${outputs.map((_, i) => `part[${i * 256}u + li] = s${i};`).join(' ')}
  workgroupBarrier();
  for (var o = 16u; o > 0u; o >>= 1u) {
    if (lane < o) { ${outputs.map((_, i) => `part[${i * 256}u + li] += part[${i * 256}u + li + o];`).join(' ')} }
    workgroupBarrier();
  }
  if (lane == 0u && n < p.N) {
    ${outputs.map((_, i) => `let t${i} = part[${i * 256}u + li];`).join(' ')}
    ${finish}
  }
}`;
}

const gemvColumns = `@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) { s += a[k] * b[k * p.N + n]; }
  if (p.acc != 0u) { out[n] += s; } else { out[n] = s; }
}`;

export function matmul(rt: Runtime, out: number, a: number, b: number, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  const params = [M, N, K, accumulate ? 1 : 0];
  if (M === 1) {
    // one row (transA does not matter: a is K contiguous floats either way)
    const k = transB
      ? kernel('gemvRows', 'M:u32 N:u32 K:u32 acc:u32', 'out:f32:w a:f32:r b:f32:r', () => gemvRowsSource(['b'], 'if (p.acc != 0u) { out[n] += t0; } else { out[n] = t0; }'))
      : kernel('gemvColumns', 'M:u32 N:u32 K:u32 acc:u32', 'out:f32:w a:f32:r b:f32:r', () => gemvColumns);
    rt.dispatch(k, [out, a, b], params, [Math.ceil(N / (transB ? GEMV_ROWS : 256))]);
    return;
  }
  const vec4 = GEMM === 'vec4' && M % 4 === 0 && N % 4 === 0 && K % 4 === 0;
  const k = vec4
    ? kernel(`matmul4_${+transA}${+transB}`, 'M:u32 N:u32 K:u32 acc:u32 kChunk:u32', 'out:vec4f:w a:vec4f:r b:vec4f:r', () => source4(transA, transB))
    : kernel(`matmul_${+transA}${+transB}`, 'M:u32 N:u32 K:u32 acc:u32 kChunk:u32', 'out:f32:w a:f32:r b:f32:r', () => source(transA, transB));
  const tiles = Math.ceil(N / BN) * Math.ceil(M / BM);
  const S = splitK(tiles, K);
  if (S === 1) {
    rt.dispatch(k, [out, a, b], [...params, K], [Math.ceil(N / BN), Math.ceil(M / BM)]);
    return;
  }
  // too few output tiles to fill the GPU (weight gradients: K = tokens): S slices of K into S
  // partial products, then one pass adds them up into out
  const chunk = Math.ceil(K / S / BK4) * BK4;
  const slices = Math.ceil(K / chunk);
  const part = rt.scratch(slices * M * N);
  rt.dispatch(k, [part, a, b], [M, N, K, 0, chunk], [Math.ceil(N / BN), Math.ceil(M / BM), slices]);
  const sum = elementwise('splitKSum', 'n:u32 slices:u32 acc:u32', 'out:f32:w part:f32:r', `var s = 0.0;
  for (var z = 0u; z < p.slices; z++) { s += part[z * p.n + i]; }
  ${put('out', 'i', 's')}`);
  rt.dispatch(sum, [out, part], [M * N, slices, accumulate ? 1 : 0], grid(M * N));
}
