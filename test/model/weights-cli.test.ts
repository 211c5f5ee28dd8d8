// `--weights fp32|bf16|q8` on generate: the CLI output equals the library's generate() on a model
// converted with useInferenceWeights (both on the js backend, so greedy ties break the same way), and
// a bad value is one clear error line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder, loadModelFolder } from '../../src/formats/hf-folder.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { generate } from '../../src/model/generate.js';
import { useInferenceWeights } from '../../src/nn/inference-weights.js';
import { withBackend } from '../../src/core/index.js';
import { jsBackend } from '../../src/backends/js/index.js';

const TOKENIZER = '../shared/data/minimind-tokenizer/minimind2';
const skip = existsSync(join(TOKENIZER, 'tokenizer.json')) ? false : `${TOKENIZER} not found (needs ../shared/data)`;
const cli = 'dist/src/cli/main.js';
const env = { ...process.env, MINIMIND_BACKEND: 'js' };
const dir = mkdtempSync(join(tmpdir(), 'mm-weights-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('generate --weights bf16 / q8 prints what generate() gives on the converted model', { skip }, () => withBackend(jsBackend, () => {
  const folder = join(dir, 'tiny');
  // hidden 64 (a multiple of 32, so q8 converts every matrix)
  const m = new MiniMindForCausalLM(presetConfig('tiny', { max_position_embeddings: 128 }), { seed: 5 });
  saveModelFolder(folder, m, { tokenizerDir: TOKENIZER });
  m.dispose();
  const tok = Tokenizer.load(TOKENIZER);
  const ids = [tok.bosTokenId!, ...tok.encode('Once upon a time')];
  for (const w of ['bf16', 'q8'] as const) {
    const r = spawnSync(process.execPath, [cli, 'generate', '--model', folder, '--prompt', 'Once upon a time', '--raw', '--json', '--max-new-tokens', '8', '--temperature', '0', '--weights', w], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    const model = loadModelFolder(folder).model;
    const conv = useInferenceWeights(model, w);
    assert.deepEqual(conv.kept, [], `${w}: every matrix converted`);
    const [want] = generate(model, ids, { temperature: 0, stopTokenIds: [], maxNewTokens: 8, tokenizer: tok });
    assert.deepEqual(JSON.parse(r.stdout).ids, want.ids, `--weights ${w}`);
    model.dispose();
  }
  const bad = spawnSync(process.execPath, [cli, 'generate', '--model', folder, '--prompt', 'x', '--weights', 'int4'], { encoding: 'utf8', env });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^minimind: --weights must be one of fp32, bf16, q8, got 'int4'\n$/);
}));
