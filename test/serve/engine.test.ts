// The batch engine behind the server: an error inside a decode step fails the requests in flight
// with a 500 error object and the next request is served normally; n above the batch is a 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { serveContext } from '../../src/serve/load.js';
import { BatchEngine } from '../../src/serve/engine.js';
import { makeServedModel, type ServedFixture } from './fixture.js';

let fx: ServedFixture;
let srv: RunningServer;
before(async () => {
  fx = makeServedModel();
  const engine = new BatchEngine(fx.model, { tokenizer: fx.tokenizer, maxBatch: 4 });
  srv = await startServer(serveContext(fx.model, fx.tokenizer, {}, engine, 'tiny-chat'), { port: 0 });
});
after(async () => {
  await srv.close();
  fx.cleanup();
});

const post = (body: unknown) => fetch(`${srv.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'tiny-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 6, temperature: 0, ...(body as object) }) });

test('a failing decode step answers 500 to the requests in flight; the server keeps serving', async () => {
  const norm = fx.model.model.norm;
  const forward = norm.forward.bind(norm);
  let calls = 0;
  norm.forward = (x) => {
    if (++calls === 3) throw new Error('simulated kernel failure');
    return forward(x);
  };
  try {
    // Greedy, 6 tokens each: both requests are still decoding when the third norm call throws.
    const [a, b] = await Promise.all([post({}), post({ stream: true })]);
    assert.equal(a.status, 500);
    const err = ((await a.json()) as { error: { type: string; message: string } }).error;
    assert.equal(err.type, 'server_error');
    assert.match(err.message, /simulated kernel failure/);
    assert.equal(b.status, 200); // the stream had started: the error arrives as an event
    assert.match(await b.text(), /data: \{"error":\{"message":"The server had an error[^"]*simulated kernel failure/);
  } finally {
    norm.forward = forward;
  }
  const ok = await post({});
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { choices: unknown[] }).choices.length, 1);
});

test('n larger than the batch is a 400 naming n', async () => {
  const r = await post({ n: 5 });
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { error: { param: string } }).error.param, 'n');
});
