// The page bundle (dist/web/minimind.js): built with --strict (no node: module in its import graph),
// and, loaded as a plain ES module, the same library: a tokenizer trained through it is byte for byte
// the Node library's, a model folder written by Node loads from its in-memory volume and gives
// Node's logits, and its node:fs stand-in fails as node:fs does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainTokenizer } from '../../src/tokenizer/trainer.js';
import { presetConfig } from '../../src/model/presets.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { setBackend, getBackend } from '../../src/core/device.js';
import { jsBackend } from '../../src/backends/js/index.js';
import { tensor } from '../../src/core/tensor.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const TEXTS = ['The capital of France is Paris.', 'One plus two is three.', '北京是中国的首都。', 'Hello, world! Hello again.'];

test('the page bundle builds with no node: module in its import graph (--strict)', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-web.mjs'), '--strict'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(join(root, 'dist', 'web', 'minimind.js'), 'utf8');
  assert.doesNotMatch(text, /from\s*"node:|import\(\s*"node:/);
});

test('through the bundle: tokenizer training, model folders on the volume and fs errors match the Node library', async () => {
  const lib = await import(join(root, 'dist', 'web', 'minimind.js'));
  // tokenizer: trained through the bundle and in Node, saved, compared as files
  const tok = lib.trainTokenizer({ texts: TEXTS, vocabSize: 300, preset: 'minimind3' });
  tok.save('/tok');
  const dir = mkdtempSync(join(tmpdir(), 'mm-bundle-'));
  try {
    const nodeTok = trainTokenizer({ texts: TEXTS, vocabSize: 300, preset: 'minimind3' });
    nodeTok.save(join(dir, 'tok'));
    for (const f of readdirSync(join(dir, 'tok'))) assert.equal(new TextDecoder().decode(lib.files.get(`/tok/${f}`)), readFileSync(join(dir, 'tok', f), 'utf8'), f);

    // a model folder written by Node, read through the bundle's volume: same logits
    const prev = getBackend();
    setBackend(jsBackend);
    try {
      const cfg = presetConfig('tiny-3', { vocab_size: nodeTok.vocabSize, max_position_embeddings: 64 });
      const model = new MiniMindForCausalLM(cfg, { seed: 3 });
      saveModelFolder(join(dir, 'model'), model, { tokenizerDir: join(dir, 'tok') });
      for (const f of readdirSync(join(dir, 'model'))) lib.putFile(`/model/${f}`, new Uint8Array(readFileSync(join(dir, 'model', f))));
      const ids = nodeTok.encode('The capital of France is');
      const want = model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'int32')).logits.toArray() as Float32Array;
      const loaded = lib.loadInferenceFolder('/model');
      const got = loaded.model.forward(lib.tensor(Int32Array.from(ids), [1, ids.length], 'int32')).logits.toArray() as Float32Array;
      assert.equal(got.length, want.length);
      assert.deepEqual(Array.from(got), Array.from(want));
    } finally {
      setBackend(prev);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // the in-memory node:fs answers a missing model folder as the Node library does
  assert.throws(() => lib.loadInferenceFolder('/nowhere'), /model folder not found: \/nowhere/);
});
