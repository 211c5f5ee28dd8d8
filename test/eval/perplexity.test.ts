// Perplexity and bits per byte: the arithmetic, the sliding windows (every token predicted once, with
// the context the recipe promises), the totals against plain forward passes, and the documents reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope, tensor } from '../../src/core/index.js';
import { readDocuments } from '../../src/eval/documents.js';
import { UserError } from '../../src/core/errors.js';
import { evaluatePerplexity, perplexityFigures, slidingWindows } from '../../src/eval/perplexity.js';
import { tinyModel, tinyTokenizer, tmp } from './helpers.js';

const tok = tinyTokenizer();
const model = tinyModel(tok.vocabSize, 11);

/** -log p(ids[p + 1] | ids[start..p]) from a plain forward pass of exactly that context. */
function nll(ids: number[], start: number, p: number): number {
  const ctx = ids.slice(start, p + 1);
  const V = model.config.vocab_size;
  const row = noGrad(() => scope(() => (model.forward(tensor(Int32Array.from(ctx), [1, ctx.length], 'int32')).logits.toArray() as Float32Array).slice((ctx.length - 1) * V)));
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let s = 0;
  for (const v of row) s += Math.exp(v - max);
  return -(row[ids[p + 1]] - max - Math.log(s));
}

test('loss, perplexity and bits per byte from totals', () => {
  const f = perplexityFigures(6, 3, 4);
  assert.equal(f.loss, 2);
  assert.ok(Math.abs(f.perplexity - Math.exp(2)) < 1e-12);
  assert.ok(Math.abs(f.bits_per_byte - 6 / (4 * Math.LN2)) < 1e-12);
  // One nat per byte is 1 / ln 2 = 1.4427 bits per byte.
  assert.ok(Math.abs(perplexityFigures(100, 7, 100).bits_per_byte - 1.4426950408889634) < 1e-12);
});

test('sliding windows predict every token after the prefix exactly once, with at least L - S tokens of context', () => {
  const ids = Array.from({ length: 23 }, (_, i) => 100 + i);
  for (const [L, S] of [[6, 4], [6, 6], [6, 1], [30, 5], [5, 3]]) {
    const seen = new Map<number, number>();
    slidingWindows(ids, L, S).forEach((w, k) => {
      assert.ok(w.ids.length <= L);
      w.targets.forEach((t, pos) => {
        if (t === -100) return;
        assert.equal(t, ids[k * S + pos + 1]);
        seen.set(k * S + pos + 1, (seen.get(k * S + pos + 1) ?? 0) + 1);
        if (k > 0) assert.ok(pos >= L - S, `L ${L} S ${S}: window ${k} scores position ${pos} with too little context`);
      });
    });
    assert.deepEqual([...seen.keys()].sort((a, b) => a - b), ids.slice(1).map((_, i) => i + 1), `L ${L} S ${S}`);
    assert.ok([...seen.values()].every((c) => c === 1));
  }
});

test('evaluatePerplexity equals plain forward passes: one window, and sliding windows in batches', () => {
  const texts = ['The capital of France is Paris.', '下列关于税法的表述中，不正确的是 1 + 1 = 2 答案：A'];
  const bos = tok.bosTokenId!;
  const docs = texts.map((t) => [bos, ...tok.encode(t)]);
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  const whole = evaluatePerplexity(model, tok, texts, { batchSize: 2 });
  let want = 0;
  for (const ids of docs) for (let p = 0; p + 1 < ids.length; p++) want += nll(ids, 0, p);
  assert.equal(whole.tokens, docs.reduce((n, d) => n + d.length - 1, 0));
  assert.equal(whole.bytes, bytes);
  assert.ok(Math.abs(whole.nats - want) / want < 1e-5, `${whole.nats} vs ${want}`);
  assert.ok(Math.abs(whole.bits_per_byte - want / (Math.LN2 * bytes)) / whole.bits_per_byte < 1e-5);

  const L = 8;
  const S = 3;
  const slid = evaluatePerplexity(model, tok, texts, { maxSeqLen: L, stride: S, batchSize: 3 });
  let wantSlid = 0;
  for (const ids of docs) {
    for (let p = 0; p + 1 < ids.length; p++) {
      // The first window w whose inputs [wS, wS + L) reach p scores it, from context ids[wS..p].
      const w = Math.max(0, Math.ceil((p - L + 1) / S));
      wantSlid += nll(ids, w * S, p);
    }
  }
  assert.ok(Math.abs(slid.nats - wantSlid) / wantSlid < 1e-5, `${slid.nats} vs ${wantSlid}`);
  assert.equal(slid.tokens, whole.tokens);
  assert.ok(slid.nats !== whole.nats, 'less context gives another total');
  assert.throws(() => evaluatePerplexity(model, tok, texts, { maxSeqLen: 8, stride: 9 }), /stride must be an integer in 1..8/);
  assert.throws(() => evaluatePerplexity(model, tok, texts, { maxSeqLen: 100000 }), UserError);
});

test('documents: a .txt file is one document, a .jsonl file one per line; bad lines name file and line', async () => {
  const d = tmp();
  writeFileSync(join(d, 'a.txt'), '\ufeff第一行\n第二行\n');
  assert.deepEqual(await readDocuments(join(d, 'a.txt')), ['第一行\n第二行\n']);
  writeFileSync(join(d, 'b.jsonl'), '{"text": "一"}\n\n{"text": "二"}\n');
  assert.deepEqual(await readDocuments(join(d, 'b.jsonl')), ['一', '二']);
  writeFileSync(join(d, 'c.jsonl'), '{"text": "一"}\n{"conversations": []}\n');
  await assert.rejects(readDocuments(join(d, 'c.jsonl')), (e: Error) => e instanceof UserError && e.message.startsWith(`${join(d, 'c.jsonl')}:2: expected a "text"`));
  writeFileSync(join(d, 'e.jsonl'), '{"text": "一"}\n{"text": \n');
  await assert.rejects(readDocuments(join(d, 'e.jsonl')), (e: Error) => e instanceof UserError && e.message.includes(':2'));
  await assert.rejects(readDocuments(join(d, 'missing.txt')), UserError);
});
