// `minimind chat` — multi-turn chat with a model folder. Each line of input is a user turn; the
// whole history is rendered with the tokenizer's chat template and the answer streams to stdout.
// Works the same on a terminal and on a pipe (`printf 'hi\nbye\n' | minimind chat --model m`):
// one answer line per input line, and EOF ends the session. Commands: /reset, /exit.
import { createInterface } from 'node:readline';
import { parseFlags, requireFlag } from '../args.js';
import { generate } from '../../model/generate.js';
import type { ChatMessage } from '../../tokenizer/chat.js';
import { SAMPLING_FLAGS, loadForGeneration, samplingOptions, chatPromptIds, weightsFlag } from './generate.js';

const USAGE = `Usage: minimind chat --model <folder> [options]

Type a message and press Enter; the answer streams back. Input may also come from a pipe, one
message per line (the session ends at EOF).
  /reset   forget the conversation so far
  /exit    leave (also Ctrl-D)

  --model <folder>            a model folder (config.json, model.safetensors, tokenizer.json)
  --adapter <dir>             apply a LoRA adapter (PEFT layout) without merging
  --system <text>             system message at the start of every conversation
  --think                     minimind-3 template: open a <think> block (open_thinking)
  --max-new-tokens <n>        new tokens per answer at most (default 512)
  --temperature <t>           0 = greedy (default: generation_config.json, else 0.85)
  --top-p <p>, --top-k <k>    nucleus / top-k sampling (defaults 0.85 / 50)
  --repetition-penalty <r>    > 1 discourages repeats (default 1; MiniMind suggests 1.2 for loops)
  --stop <text>               stop string (repeatable); eos always stops
  --seed <n>                  sampling seed (default: random)
  --device cpu|cuda|auto      where the model runs (default cpu)
  --weights fp32|bf16|q8      weight storage for decoding (default fp32)`;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, SAMPLING_FLAGS, USAGE);
  if (!parsed) return;
  const { values } = parsed;
  const loaded = await loadForGeneration(requireFlag(values, 'model', USAGE), values.adapter as string | undefined, values.device as string | undefined, weightsFlag(values));
  const opts = samplingOptions(values, loaded);
  const { tokenizer, model } = loaded;
  const maxPos = model.config.max_position_embeddings;
  const system: ChatMessage[] = typeof values.system === 'string' ? [{ role: 'system', content: values.system }] : [];
  const think = values.think === true;
  chatPromptIds(tokenizer, [...system, { role: 'user', content: 'hi' }], think); // fail now if there is no chat template

  const interactive = process.stdin.isTTY === true;
  const notice = (s: string) => (interactive ? process.stdout.write(`${s}\n`) : process.stderr.write(`${s}\n`));
  const rl = createInterface({ input: process.stdin, terminal: interactive });
  const prompt = () => interactive && process.stdout.write('> ');
  if (interactive) notice('minimind chat — /reset clears the history, /exit leaves.');
  prompt();

  let history: ChatMessage[] = [];
  let turn = 0;
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === '') {
      prompt();
      continue;
    }
    if (line === '/exit' || line === '/quit') break;
    if (line === '/reset') {
      history = [];
      notice('(history cleared)');
      prompt();
      continue;
    }
    history.push({ role: 'user', content: line });
    // Drop the oldest turns until the prompt leaves room to answer (at least a few tokens).
    let ids = chatPromptIds(tokenizer, [...system, ...history], think);
    const room = Math.min(opts.maxNewTokens, 64);
    while (ids.length + room > maxPos && history.length > 1) {
      history.splice(0, history[1]?.role === 'assistant' ? 2 : 1);
      ids = chatPromptIds(tokenizer, [...system, ...history], think);
    }
    if (ids.length + 1 > maxPos) {
      // One message alone fills the context: say so and keep the session going.
      notice(`(message too long: ${ids.length} tokens with the template, the model's context is ${maxPos}; not sent)`);
      history.pop();
      if (!interactive) process.stdout.write('\n'); // keep one output line per input line on a pipe
      prompt();
      continue;
    }
    const [r] = generate(model, ids, {
      ...opts,
      // Each answer gets its own stream: seed + turn keeps a seeded session reproducible.
      seed: opts.seed === undefined ? undefined : opts.seed + turn,
      onToken: (e) => e.text && process.stdout.write(e.text),
    });
    process.stdout.write('\n');
    history.push({ role: 'assistant', content: (r.text ?? '').trim() });
    turn++;
    prompt();
  }
  rl.close();
}
