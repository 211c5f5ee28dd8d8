// One decode step of attention for S sequences with their own KV caches, the definition (see
// Backend.attentionDecode): write each sequence's new k/v row into its caches at pos[s], then
// attend its one query over positions 0 .. pos[s] with attentionForward's arithmetic.
import type { HostFBuf as FBuf } from '../backend.js';
import { attentionForward } from './attention.js';

export function attentionDecode(out: FBuf, q: FBuf, k: FBuf, v: FBuf, kc: FBuf[], vc: FBuf[], pos: Int32Array, S: number, H: number, KVH: number, D: number, scale: number): void {
  const inner = KVH * D;
  const lse = new Float32Array(H);
  for (let s = 0; s < S; s++) {
    const p = pos[s];
    const cap = kc[s].length / inner;
    if (!(p >= 0 && p < cap) || vc[s].length !== kc[s].length) throw new Error(`attentionDecode: position ${p} of sequence ${s} is outside its cache of ${cap} positions`);
    kc[s].set(k.subarray(s * inner, (s + 1) * inner), p * inner);
    vc[s].set(v.subarray(s * inner, (s + 1) * inner), p * inner);
    attentionForward(out.subarray(s * H * D, (s + 1) * H * D), lse, q.subarray(s * H * D, (s + 1) * H * D), kc[s], vc[s], 1, 1, p + 1, cap, H, KVH, D, scale);
  }
}
