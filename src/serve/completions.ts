// POST /v1/completions (OpenAI's legacy text endpoint): raw prompts, no chat template. A text
// prompt is fed as BOS + its tokens, as MiniMind evaluates pretrained models (`generate --raw`);
// token-id prompts are fed as given. Choice p*n + j is sample j of prompt p. `logprobs: k` (0..5)
// gives each choice OpenAI's legacy logprobs object (logprobs.ts): in a stream, each chunk carries
// the entries of the tokens since the previous chunk of its choice.
import type { ServerResponse } from 'node:http';
import { encodePrompt, EventStream, newId, onDisconnect, samplingFor, sendJson, type ServeContext } from './context.js';
import { badParam, errors } from './errors.js';
import { parseCompletionRequest } from './requests.js';
import { CompletionLogprobsBuilder } from './logprobs.js';

export function handleCompletion(ctx: ServeContext, body: unknown, res: ServerResponse): void {
  const r = parseCompletionRequest(body);
  if (r.model !== ctx.modelName) throw errors.unknownModel(r.model, ctx.modelName);
  // More sequences than the server ever holds would get 429 "retry" on an idle server: say it now.
  const { maxBatch, maxQueue } = ctx.engine.stats();
  if (r.prompts.length * r.n > maxBatch + maxQueue) throw errors.neverFits(r.prompts.length * r.n, maxBatch + maxQueue);
  const tok = ctx.tokenizer;
  const prompts = r.prompts.map((p, i) => {
    if (typeof p !== 'string') {
      const bad = p.find((id) => id < 0 || id >= tok.vocabSize);
      if (bad !== undefined) throw badParam('prompt', `prompt ${i} has token id ${bad}, outside the vocabulary [0, ${tok.vocabSize}).`);
      return p;
    }
    const ids = encodePrompt(ctx, p, 'prompt', tok.bosTokenId !== undefined ? [tok.bosTokenId] : []);
    if (ids.length === 0) throw badParam('prompt', `prompt ${i} is empty and the tokenizer has no BOS token to start from.`);
    return ids;
  });
  const withLogprobs = r.logprobs !== undefined;
  const params = prompts.map((p) => samplingFor(ctx, { ...r, logprobs: withLogprobs, topLogprobs: r.logprobs ?? 0 }, p.length, 'prompt'));
  const total = prompts.length * r.n;
  const lps = withLogprobs ? Array.from({ length: total }, () => new CompletionLogprobsBuilder(tok)) : null;
  const meta = { id: newId('cmpl-'), created: Math.floor(Date.now() / 1000), model: ctx.modelName };
  const texts = new Array<string>(total).fill('');
  const tokens = new Array<number>(total).fill(0);
  const finish = new Array<string | null>(total).fill(null);
  let remaining = total;
  const usage = () => {
    const promptTokens = prompts.reduce((a, p) => a + p.length, 0);
    const completion = tokens.reduce((a, b) => a + b, 0);
    return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
  };
  let out: EventStream | null = null;
  const chunk = (choices: unknown[], withUsage = false) => ({
    ...meta,
    object: 'text_completion',
    system_fingerprint: null,
    choices,
    ...(r.stream && r.includeUsage ? { usage: withUsage ? usage() : null } : {}),
  });
  const finishAll = () => {
    if (r.stream) {
      if (r.includeUsage) out!.send(chunk([], true));
      out!.done();
    } else {
      sendJson(res, 200, { ...chunk(texts.map((text, k) => ({ text, index: k, logprobs: lps ? lps[k].whole : null, finish_reason: finish[k] }))), usage: usage() });
    }
  };
  const cancels: (() => void)[] = [];
  const cancelAll = () => cancels.forEach((c) => c());
  try {
    prompts.forEach((prompt, p) => {
      cancels.push(
        ctx.engine.submit({
          prompt,
          params: params[p],
          n: r.n,
          onEvent: (j, e) => {
            const k = p * r.n + j;
            texts[k] += e.text;
            tokens[k] = e.sampledTokens;
            lps?.[k].push(e.id, e.logprob, e.topLogprobs, e.text);
            if (r.stream && e.text) out!.send(chunk([{ text: e.text, index: k, logprobs: lps?.[k].take() ?? null, finish_reason: null }]));
            if (!e.finishReason) return;
            finish[k] = e.finishReason;
            // tokens whose text never showed (held back by a stop string) report with the finish chunk
            if (r.stream) out!.send(chunk([{ text: '', index: k, logprobs: lps?.[k].take() ?? null, finish_reason: e.finishReason }]));
            if (--remaining === 0) finishAll();
          },
          onError: (err) => {
            cancelAll();
            const e = errors.internal(err.message);
            if (r.stream) out!.fail(e);
            else if (!res.headersSent) sendJson(res, e.status, e.toJSON());
          },
        }),
      );
    });
  } catch (e) {
    cancelAll(); // a later prompt did not fit in the queue: the whole request is refused
    throw e;
  }
  if (r.stream) out = new EventStream(res);
  onDisconnect(res, cancelAll);
}
