// What the server says about the model comes from the model: a training run's `model` folder is
// served under the run's name (not "model"), its context is the length it was trained at (the
// generation_config max_length our stages write, not the larger RoPE table of max_position_embeddings),
// and a request without max_tokens gets the generation_config's max_new_tokens, as vLLM does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { serve, servedName } from '../../src/serve/load.js';
import { makeServedModel, type ServedFixture } from './fixture.js';

let fx: ServedFixture;
let runModel: string;

before(() => {
  fx = makeServedModel({ maxPositions: 512 });
  runModel = join(fx.dir, 'my-run', 'model');
  mkdirSync(join(fx.dir, 'my-run'));
  cpSync(fx.folder, runModel, { recursive: true });
  writeFileSync(join(fx.dir, 'my-run', 'metrics.jsonl'), '{"step": 1, "loss": 3}\n');
  const gcPath = join(runModel, 'generation_config.json');
  writeFileSync(gcPath, JSON.stringify({ ...JSON.parse(readFileSync(gcPath, 'utf8')), max_length: 128, max_new_tokens: 7 }));
});
after(() => fx.cleanup());

test('served name: a run\'s model folder is served as the run; any other folder by its name', () => {
  assert.equal(servedName(runModel), 'my-run');
  assert.equal(servedName(fx.folder), 'tiny-chat');
  const lone = join(fx.dir, 'downloads', 'model');
  cpSync(fx.folder, lone, { recursive: true });
  assert.equal(servedName(lone), 'model', 'a folder named model outside a run keeps its name');
});

test('a run\'s model: id = run name, context = the trained length, max_tokens default = max_new_tokens', async () => {
  const srv = await serve({ model: runModel, port: 0 });
  try {
    const client = new OpenAI({ apiKey: 'none', baseURL: `${srv.url}/v1`, maxRetries: 0 });
    const card = (await client.models.list()).data[0] as OpenAI.Model & { max_model_len: number };
    assert.equal(card.id, 'my-run');
    assert.equal(card.max_model_len, 128, 'trained at 128, though max_position_embeddings is 512');
    const r = await client.chat.completions.create({ model: 'my-run', messages: [{ role: 'user', content: 'Paris' }], temperature: 0 });
    assert.deepEqual([r.choices[0].finish_reason, r.usage!.completion_tokens], ['length', 7]);
    // A prompt that fits 512 positions but not the 128 the model was trained at.
    const e = await client.chat.completions.create({ model: 'my-run', messages: [{ role: 'user', content: 'Paris '.repeat(150) }] }).catch((x: unknown) => x);
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.match(e.message, /maximum context length is 128 tokens/);
  } finally {
    await srv.close();
  }
  const plain = await serve({ model: fx.folder, port: 0 });
  try {
    const card = (await (await fetch(`${plain.url}/v1/models`)).json()) as { data: { id: string; max_model_len: number }[] };
    assert.deepEqual([card.data[0].id, card.data[0].max_model_len], ['tiny-chat', 512], 'without a recorded length: max_position_embeddings');
  } finally {
    await plain.close();
  }
});
