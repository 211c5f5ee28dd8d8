// WGSL kernel definitions: a kernel declares its parameters (a uniform struct, 4-byte scalars) and
// its storage buffers; kernelSource() writes those declarations in front of its body, so the
// binding order and the uniform layout are stated once and runtime.ts can fill them.
//
// Buffer access: 'r' read-only storage, 'w' read-write, 'a' read-write as atomic<u32> (float
// scatter-adds by compare-and-swap: WGSL has no float atomics).

export type ParamType = 'u32' | 'i32' | 'f32';
export type Access = 'r' | 'w' | 'a';

export interface KernelDef {
  /** Unique per WGSL text (the pipeline cache key). */
  key: string;
  params: [string, ParamType][];
  buffers: [string, 'f32' | 'i32' | 'u32' | 'vec4f', Access][];
  /** Helpers, workgroup variables and `@compute fn main`. */
  body: string;
}

const defs = new Map<string, KernelDef>();

/**
 * A kernel, made once per key. params: 'n:u32 alpha:f32'; buffers: 'out:f32:w x:f32:r'.
 * body is a function so that variants (transposes, head dims) build their text only when first used.
 */
export function kernel(key: string, params: string, buffers: string, body: () => string): KernelDef {
  let d = defs.get(key);
  if (!d) {
    const split = (s: string): string[][] => s.split(/\s+/).filter(Boolean).map((t) => t.split(':'));
    d = {
      key,
      params: split(params) as [string, ParamType][],
      buffers: split(buffers) as [string, 'f32' | 'i32' | 'u32' | 'vec4f', Access][],
      body: body(),
    };
    defs.set(key, d);
  }
  return d;
}

export function kernelSource(def: KernelDef, _features: string[]): string {
  const fields = def.params.length ? def.params.map(([n, t]) => `  ${n}: ${t},`).join('\n') : '  unused: u32,';
  const bindings = def.buffers.map(([name, type, access], i) => {
    const decl = access === 'r' ? `var<storage, read> ${name}: array<${type}>`
      : access === 'w' ? `var<storage, read_write> ${name}: array<${type}>`
      : `var<storage, read_write> ${name}: array<atomic<u32>>`;
    return `@group(0) @binding(${i + 1}) ${decl};`;
  });
  return `struct Params {\n${fields}\n}\n@group(0) @binding(0) var<uniform> p: Params;\n${bindings.join('\n')}\n${def.body}`;
}

/** Workgroups for n threads of 256 per group, spread over x and y (x <= 65535 each). */
export function grid(n: number, perGroup = 256): [number, number] {
  const groups = Math.ceil(n / perGroup);
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

/** The flat thread index for grid(): `let i = ...` inside main(gid, nwg). */
export const FLAT = 'let i = gid.x + gid.y * nwg.x * 256u;';
export const MAIN256 = '@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u)';

/** A one-thread-per-element kernel: `stmt` runs for each i < p.n (params must include n). */
export function elementwise(key: string, params: string, buffers: string, stmt: string, helpers = ''): KernelDef {
  return kernel(key, params, buffers, () => `${helpers}\n${MAIN256} {\n  ${FLAT}\n  if (i >= p.n) { return; }\n  ${stmt}\n}`);
}

/** `dst[idx] = v`, or `+=` when p.acc != 0. */
export function put(dst: string, idx: string, v: string, flag = 'p.acc'): string {
  return `{ let v_ = ${v}; if (${flag} != 0u) { ${dst}[${idx}] += v_; } else { ${dst}[${idx}] = v_; } }`;
}

/** fn atomicAddF(i, v) on the atomic buffer `name` (compare-and-swap on the float's bits). */
export function atomicAddF(name: string): string {
  return `fn atomicAddF(i: u32, v: f32) {
  var old = atomicLoad(&${name}[i]);
  loop {
    let r = atomicCompareExchangeWeak(&${name}[i], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}`;
}

/** Workgroup reductions over 256 threads (call from uniform control flow; `lid` is the local index). */
export const REDUCE256 = `var<workgroup> red: array<f32, 256>;
fn reduceSum(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  red[lid] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  return red[0];
}
fn reduceMax(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  red[lid] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  return red[0];
}`;

/** True when a float's bits are NaN or ±Infinity (WGSL may assume floats finite, so test the bits). */
export const NONFINITE = 'fn nonFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }';

/** fn nan() -> f32 (a NaN literal is not a valid WGSL constant, so it comes from a private variable). */
export const NAN = 'var<private> nanBits: u32 = 0x7fc00000u;\nfn nan() -> f32 { return bitcast<f32>(nanBits); }';
