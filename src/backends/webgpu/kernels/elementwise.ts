// Elementwise kernels, unary activations, SwiGLU, gradient norm and clipping, AdamW
// (the js backend's elementwise.ts, activation.ts and adamw.ts). n = element count.
import type { Runtime } from '../runtime.js';
import { elementwise, grid, kernel, put, NONFINITE, REDUCE256 } from '../wgsl.js';
import type { UnaryOp } from '../../backend.js';

export function fill(rt: Runtime, out: number, value: number, n: number): void {
  // the value's bits: a float32, or an int32 for an int32 buffer
  const bits = rt.dtype(out) === 'int32' ? value | 0 : new Uint32Array(Float32Array.of(value).buffer)[0];
  const k = elementwise('fill', 'n:u32 bits:u32', 'out:u32:w', 'out[i] = p.bits;');
  rt.dispatch(k, [out], [n, bits >>> 0], grid(n));
}

export function copy(rt: Runtime, out: number, x: number, n: number): void {
  rt.dispatch(elementwise('copy', 'n:u32', 'out:u32:w x:u32:r', 'out[i] = x[i];'), [out, x], [n], grid(n));
}

export function add(rt: Runtime, out: number, a: number, b: number, n: number): void {
  rt.dispatch(elementwise('add', 'n:u32', 'out:f32:w a:f32:r b:f32:r', 'out[i] = a[i] + b[i];'), [out, a, b], [n], grid(n));
}

export function mul(rt: Runtime, out: number, a: number, b: number, n: number): void {
  rt.dispatch(elementwise('mul', 'n:u32', 'out:f32:w a:f32:r b:f32:r', 'out[i] = a[i] * b[i];'), [out, a, b], [n], grid(n));
}

export function affine(rt: Runtime, out: number, x: number, alpha: number, beta: number, n: number): void {
  rt.dispatch(elementwise('affine', 'n:u32 alpha:f32 beta:f32', 'out:f32:w x:f32:r', 'out[i] = p.alpha * x[i] + p.beta;'), [out, x], [n, alpha, beta], grid(n));
}

export function axpy(rt: Runtime, out: number, x: number, alpha: number, n: number): void {
  rt.dispatch(elementwise('axpy', 'n:u32 alpha:f32', 'out:f32:w x:f32:r', 'out[i] += p.alpha * x[i];'), [out, x], [n, alpha], grid(n));
}

// Two passes: up to 256 workgroups write partial sums of squares, one workgroup adds them up.
const PARTIALS = 256;
const ssPartial = (): ReturnType<typeof kernel> => kernel('sumSquaresPartial', 'n:u32', 'part:f32:w x:f32:r', () => `${REDUCE256}
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  var s = 0.0;
  for (var i = wid.x * 256u + lid; i < p.n; i += nwg.x * 256u) { s += x[i] * x[i]; }
  let t = reduceSum(s, lid);
  if (lid == 0u) { part[wid.x] = t; }
}`);
const ssFinal = (): ReturnType<typeof kernel> => kernel('sumSquaresFinal', 'parts:u32 acc:u32', 'out:f32:w part:f32:r', () => `${REDUCE256}
@compute @workgroup_size(256) fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  if (lid < p.parts) { s = part[lid]; }
  let t = reduceSum(s, lid);
  if (lid == 0u) { ${put('out', '0', 't')} }
}`);

export function sumSquares(rt: Runtime, out: number, x: number, n: number, accumulate: boolean): void {
  const parts = Math.max(1, Math.min(PARTIALS, Math.ceil(n / 1024)));
  const part = rt.scratch(parts);
  if (n > 0) rt.dispatch(ssPartial(), [part, x], [n], [parts]);
  else fill(rt, part, 0, 1);
  rt.dispatch(ssFinal(), [out, part], [parts, accumulate ? 1 : 0], [1]);
}

export function clipScale(rt: Runtime, x: number, sumsq: number, maxNorm: number, n: number): void {
  const k = elementwise('clipScale', 'n:u32 maxNorm:f32', 'x:f32:w s:f32:r', `let c = p.maxNorm / (sqrt(s[0]) + 1e-6);
  if (c < 1.0) { x[i] *= c; }`);
  rt.dispatch(k, [x, sumsq], [n, maxNorm], grid(n));
}

const UNARY: Record<UnaryOp, number> = { exp: 0, log: 1, silu: 2, sigmoid: 3, logsigmoid: 4 };
const ACTIVATIONS = `fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
// log(sigmoid(x)) = -softplus(-x), finite for large |x|
fn logSigmoid(x: f32) -> f32 { if (x >= 0.0) { return -log(1.0 + exp(-x)); } return x - log(1.0 + exp(x)); }`;

export function unaryForward(rt: Runtime, op: UnaryOp, out: number, x: number, n: number): void {
  const k = elementwise('unaryForward', 'n:u32 op:u32', 'out:f32:w x:f32:r', `let v = x[i];
  var r: f32;
  switch (p.op) {
    case 0u: { r = exp(v); }
    case 1u: { r = log(v); }
    case 2u: { r = v * sigmoid(v); }
    case 3u: { r = sigmoid(v); }
    default: { r = logSigmoid(v); }
  }
  out[i] = r;`, ACTIVATIONS);
  rt.dispatch(k, [out, x], [n, UNARY[op]], grid(n));
}

export function unaryBackward(rt: Runtime, op: UnaryOp, dx: number, dout: number, x: number, out: number, n: number, accumulate: boolean): void {
  const k = elementwise('unaryBackward', 'n:u32 op:u32 acc:u32', 'dx:f32:w dout:f32:r x:f32:r out:f32:r', `let v = x[i];
  var d: f32;
  switch (p.op) {
    case 0u: { d = out[i]; }
    case 1u: { d = 1.0 / v; }
    case 2u: { let s = sigmoid(v); d = s * (1.0 + v * (1.0 - s)); }
    case 3u: { d = out[i] * (1.0 - out[i]); }
    default: { d = sigmoid(-v); }
  }
  ${put('dx', 'i', 'dout[i] * d')}`, ACTIVATIONS);
  rt.dispatch(k, [dx, dout, x, out], [n, UNARY[op], accumulate ? 1 : 0], grid(n));
}

export function swigluForward(rt: Runtime, out: number, gate: number, up: number, n: number): void {
  const k = elementwise('swigluForward', 'n:u32', 'out:f32:w gate:f32:r up:f32:r', 'let g = gate[i]; out[i] = g * sigmoid(g) * up[i];', ACTIVATIONS);
  rt.dispatch(k, [out, gate, up], [n], grid(n));
}

export function swigluBackward(rt: Runtime, dgate: number, dup: number, dout: number, gate: number, up: number, n: number, accGate: boolean, accUp: boolean): void {
  const k = elementwise('swigluBackward', 'n:u32 accGate:u32 accUp:u32', 'dgate:f32:w dup:f32:w dout:f32:r gate:f32:r up:f32:r', `let g = gate[i];
  let s = sigmoid(g);
  ${put('dup', 'i', 'dout[i] * g * s', 'p.accUp')}
  ${put('dgate', 'i', 'dout[i] * up[i] * s * (1.0 + g * (1.0 - s))', 'p.accGate')}`, ACTIVATIONS);
  rt.dispatch(k, [dgate, dup, dout, gate, up], [n, accGate ? 1 : 0, accUp ? 1 : 0], grid(n));
}

// torch.optim.AdamW; a non-finite guard[0] leaves everything as it is (Backend.adamwStep).
export function adamwStep(rt: Runtime, param: number, grad: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number, guard: number | null): void {
  const k = elementwise('adamw', 'n:u32 lr:f32 b1:f32 b2:f32 eps:f32 wd:f32 stepSize:f32 bc2Sqrt:f32 guarded:u32', 'param:f32:w grad:f32:r m:f32:w v:f32:w guard:f32:r', `if (p.guarded != 0u && nonFinite(guard[0])) { return; }
  let g = grad[i];
  let mi = p.b1 * m[i] + (1.0 - p.b1) * g;
  let vi = p.b2 * v[i] + (1.0 - p.b2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = param[i] * (1.0 - p.lr * p.wd) - p.stepSize * mi / (sqrt(vi) / p.bc2Sqrt + p.eps);`, NONFINITE);
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  rt.dispatch(k, [param, grad, m, v, guard ?? rt.dummy], [n, lr, beta1, beta2, eps, weightDecay, lr / bc1, bc2Sqrt, guard === null ? 0 : 1], grid(n));
}
