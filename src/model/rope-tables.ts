// RoPE tables for a config, with MiniMind HEAD's YaRN or linear scaling (docs/minimind.md 1.4). Built on the
// host once per model and uploaded as (max_position_embeddings, head_dim/2) cos and sin tensors.
import { ropeTables } from '../ops/index.js';
import { effectiveRopeScaling, type MiniMindConfig } from './config.js';

export function modelRopeTables(c: MiniMindConfig): { cos: Float32Array; sin: Float32Array } {
  const hd = c.head_dim;
  const rs = effectiveRopeScaling(c);
  let freqScale: ((i: number, f: number) => number) | undefined;
  let attnFactor = 1;
  if (rs && rs.type === 'linear') {
    freqScale = (_i, f) => Math.fround(f / rs.factor);
  } else if (rs && rs.type === 'yarn' && c.max_position_embeddings / rs.original_max_position_embeddings > 1) {
    // inv_dim(b) = hd * ln(orig / (2 pi b)) / (2 ln theta); ramp over [low, high]; f' = f (1 - ramp + ramp / factor)
    const invDim = (b: number) => (hd * Math.log(rs.original_max_position_embeddings / (b * 2 * Math.PI))) / (2 * Math.log(c.rope_theta));
    const low = Math.max(Math.floor(invDim(rs.beta_fast)), 0);
    const high = Math.min(Math.ceil(invDim(rs.beta_slow)), hd / 2 - 1);
    freqScale = (i, f) => {
      const ramp = Math.min(Math.max((i - low) / Math.max(high - low, 0.001), 0), 1);
      return Math.fround(f * (1 - ramp + ramp / rs.factor));
    };
    attnFactor = rs.attention_factor;
  }
  const t = ropeTables(hd, c.max_position_embeddings, c.rope_theta, freqScale);
  if (attnFactor !== 1) {
    for (let i = 0; i < t.cos.length; i++) { t.cos[i] *= attnFactor; t.sin[i] *= attnFactor; }
  }
  return t;
}
