// One decoder block, three ways to run it: the generic forward (model.ts + attention.ts, one
// rectangle, here without a cache over the whole sequence), the ragged batched forward
// (batch-decode.ts: the same DecoderLayer.forward with a per-token-position AttentionContext,
// prefill then one token per step) and the fused batch-1 decode step of the native backend
// (fused-decode.ts, dense models). All three must give the same logits at every position, for
// every era's block (QK-norm, MoE), on the js reference backend and the native CPU one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';
import { withBackend } from '../../src/core/device.js';
import type { Backend } from '../../src/backends/backend.js';
import { jsBackend } from '../../src/backends/js/index.js';
import { loadCpuBackend, cpuLoadError } from '../../src/backends/cpu/index.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { relErr } from './helpers.js';

const VOCAB = 97;
const SEQ = [1, 40, 41, 42, 7, 9, 88, 3, 60, 61, 62, 5];
const PROMPT = 4; // the first 4 tokens are prefilled, the rest fed one by one
const cpu = loadCpuBackend();
const BACKENDS: [string, Backend | null, string][] = [['js', jsBackend, ''], ['cpu', cpu, `native backend unavailable: ${cpuLoadError()}`]];

for (const [beName, backend, why] of BACKENDS)
  for (const preset of ['tiny', 'tiny-3', 'tiny-moe', 'tiny-3-moe']) {
    test(`decoder block: generic, ragged and fused paths give the same logits (${preset}) [${beName}]`, { skip: !backend && why }, () =>
      withBackend(backend!, () => {
        const model = new MiniMindForCausalLM(presetConfig(preset, { vocab_size: VOCAB, max_position_embeddings: 32 }), { seed: 11 });
        const V = VOCAB;
        // generic: every position of the whole sequence, no cache
        const full = noGrad(() => scope(() => Float32Array.from(model.forward(tensor(Int32Array.from(SEQ), [1, SEQ.length], 'int32')).logits.toArray() as Float32Array)));
        const want = (t: number) => full.subarray(t * V, (t + 1) * V);

        // ragged: the prompt as one segment, then one-token segments
        const cache = model.newCache(1);
        let got = model.forwardRagged([{ ids: SEQ.slice(0, PROMPT), cache }]);
        assert.ok(relErr(got, want(PROMPT - 1)) < 1e-5, `ragged prefill: rel err ${relErr(got, want(PROMPT - 1))}`);
        for (let t = PROMPT; t < SEQ.length; t++) {
          got = model.forwardRagged([{ ids: [SEQ[t]], cache }]);
          assert.ok(relErr(got, want(t)) < 1e-5, `ragged position ${t}: rel err ${relErr(got, want(t))}`);
        }
        cache.dispose();

        // fused: where the backend has the step and the block is dense
        const fusedCache = model.newCache(1);
        model.forwardRagged([{ ids: SEQ.slice(0, PROMPT), cache: fusedCache }]);
        const dec = model.fusedDecoder(fusedCache);
        const expectFused = beName === 'cpu' && !preset.includes('moe');
        assert.equal(dec !== null, expectFused, 'the fused step applies to dense blocks on the native backend');
        if (dec) {
          for (let t = PROMPT; t < SEQ.length; t++) {
            const f = dec.step(SEQ[t]);
            assert.ok(relErr(f, want(t)) < 1e-5, `fused position ${t}: rel err ${relErr(f, want(t))}`);
          }
          dec.dispose();
        }
        fusedCache.dispose();
        model.dispose();
      }),
    );
  }
