// One reading of a model folder for inference (generate, chat, serve): generation_config.json's
// missing fields take transformers' own defaults (read from the installed transformers, not
// restated here), stop tokens gather every eos, the context is the length trained at, and a
// tokenizer larger than the model's vocabulary is refused in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { generationDefaults, loadInferenceFolder, stopTokenIds } from '../../src/formats/inference-folder.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { makeServedModel } from '../serve/fixture.js';
import { samplingOptions } from '../../src/cli/commands/generate.js';
import { serveContext } from '../../src/serve/load.js';
import { samplingFor } from '../../src/serve/context.js';

const PY = '.venv/bin/python';

test("generation_config fields left out take transformers' GenerationConfig defaults", { skip: !existsSync(PY) && 'no .venv (run scripts/setup-venv.sh)' }, () => {
  const r = spawnSync(PY, ['-c', 'import json; from transformers import GenerationConfig as G; print(json.dumps(G._get_default_generation_params()))'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const hf = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const d = generationDefaults({});
  assert.deepEqual([d.topP, d.topK, d.repetitionPenalty], [hf.top_p, hf.top_k, hf.repetition_penalty]);
  assert.equal(d.temperature, hf.temperature, 'sampling at transformers\' temperature (do_sample left out samples: the one departure)');
  assert.equal(d.maxNewTokens, undefined, 'no max_new_tokens: as many as the context leaves');
});

test('generation_config values are used; do_sample false is greedy', () => {
  assert.deepEqual(generationDefaults({ temperature: 0.7, top_p: 0.9, top_k: 20, repetition_penalty: 1.1, max_new_tokens: 64 }), { temperature: 0.7, topP: 0.9, topK: 20, repetitionPenalty: 1.1, maxNewTokens: 64 });
  assert.equal(generationDefaults({ do_sample: false, temperature: 0.7 }).temperature, 0);
  assert.deepEqual(stopTokenIds({ eos_token_id: 2 }, { eosTokenId: 3 }, { eos_token_id: [2, 7] }), [2, 3, 7]);
});

test('loadInferenceFolder: defaults, stop tokens and the trained context; a larger tokenizer is refused', () => {
  const fx = makeServedModel({ maxPositions: 128 });
  try {
    writeFileSync(join(fx.folder, 'generation_config.json'), JSON.stringify({ eos_token_id: [2, 5], max_length: 64, top_k: 10 }));
    const f = loadInferenceFolder(fx.folder);
    assert.equal(f.contextLength, 64);
    assert.deepEqual(f.stopTokenIds.sort((a, b) => a - b), [2, 5]);
    assert.equal(f.defaults.topK, 10);
    assert.equal(f.defaults.temperature, 1);

    const small = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: 64 }), { seed: 1 });
    const dir = join(fx.dir, 'small');
    saveModelFolder(dir, small, { tokenizerDir: fx.folder });
    assert.throws(() => loadInferenceFolder(dir), (e: Error) => e instanceof UserError && /tokenizer .* has \d+ tokens but the model in .* only 64 embedding rows/.test(e.message));
    assert.throws(() => loadInferenceFolder(join(fx.dir, 'nowhere')), (e: Error) => e instanceof UserError && /model folder not found/.test(e.message));
  } finally {
    fx.cleanup();
  }
});

test('generate/chat and the server start from the same sampling settings, with or without generation_config.json', () => {
  const fx = makeServedModel();
  try {
    for (const gc of [{}, { temperature: 0.7, top_p: 0.8, top_k: 12, repetition_penalty: 1.2 }, { do_sample: false }]) {
      writeFileSync(join(fx.folder, 'generation_config.json'), JSON.stringify(gc));
      const f = loadInferenceFolder(fx.folder);
      const cli = samplingOptions({}, f);
      const ctx = serveContext(f.model, f.tokenizer, f.generationConfig, undefined as never, 'm');
      const srv = samplingFor(ctx, { stop: [], frequencyPenalty: 0, presencePenalty: 0, n: 1, stream: false, includeUsage: false }, 3, 'messages');
      const pick = (o: { temperature?: number; topP?: number; topK?: number; repetitionPenalty?: number; stopTokenIds?: number[] }) => [o.temperature, o.topP, o.topK, o.repetitionPenalty, o.stopTokenIds];
      assert.deepEqual(pick(cli), pick(srv), JSON.stringify(gc));
    }
  } finally {
    fx.cleanup();
  }
});
