// `minimind chat` — multi-turn chat with a model folder. Each line of input is a user turn; the
// whole history is rendered with the tokenizer's chat template and the answer streams to stdout.
// Works the same on a terminal and on a pipe (`printf 'hi\nbye\n' | minimind chat --model m`):
// one answer line per input line, and EOF ends the session. Commands: /reset, /exit.
import { createInterface } from 'node:readline';
import { parseFlags, requireFlag } from '../args.js';
import { generate } from '../../model/generate.js';
import type { ChatMessage } from '../../tokenizer/chat.js';
import { SAMPLING_FLAGS, loadForGeneration, samplingOptions, chatPromptIds, weightsFlag } from './generate.js';
import { CliError } from '../args.js';
import { mockToolRegistry } from '../../tools/mock.js';
import { parseToolCalls } from '../../tools/parse.js';

const USAGE = `Usage: minimind chat --model <folder> [options]

Type a message and press Enter; the answer streams back. Input may also come from a pipe, one
message per line (the session ends at EOF).
  /reset   forget the conversation so far
  /exit    leave (also Ctrl-D)

  --model <folder>            a model folder (config.json, model.safetensors, tokenizer.json)
  --adapter <dir>             apply a LoRA adapter (PEFT layout) without merging
  --system <text>             system message at the start of every conversation
  --think                     minimind-3 template: open a <think> block (open_thinking)
  --max-new-tokens <n>        new tokens per answer at most (default: generation_config.json, else 512)
  --temperature <t>           0 = greedy (default: generation_config.json, else 1; do_sample false: 0)
  --top-p <p>, --top-k <k>    nucleus / top-k sampling (default: generation_config.json, else 1 / 50)
  --repetition-penalty <r>    > 1 discourages repeats (default: generation_config.json, else 1; MiniMind
                              suggests 1.2 for loops)
  --stop <text>               stop string (repeatable); eos always stops
  --seed <n>                  sampling seed (default: random)
  --device cpu|cuda|webgpu|auto  where the model runs (default cpu)
  --weights fp32|bf16|q8      weight storage for decoding (default fp32)
  --tools <names|all>         offer MiniMind's mock tools (calculate_math, unit_converter, get_current_weather,
                              get_current_time, get_exchange_rate, translate_text, random_number, text_length);
                              <tool_call>s in an answer are run and their results fed back, up to 8 rounds`;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, { ...SAMPLING_FLAGS, tools: { type: 'string' } }, USAGE);
  if (!parsed) return;
  const { values } = parsed;
  const loaded = loadForGeneration(requireFlag(values, 'model', USAGE), values.adapter as string | undefined, values.device as string | undefined, weightsFlag(values));
  const opts = samplingOptions(values, loaded);
  const { tokenizer, model } = loaded;
  const maxPos = loaded.contextLength;
  const system: ChatMessage[] = typeof values.system === 'string' ? [{ role: 'system', content: values.system }] : [];
  const think = values.think === true;
  const registry = mockToolRegistry();
  let tools: unknown[] | undefined;
  if (typeof values.tools === 'string') {
    const names = values.tools === 'all' ? registry.names : values.tools.split(',').map((n) => n.trim()).filter(Boolean);
    try {
      tools = registry.schemas(names);
    } catch (e) {
      throw new CliError(`--tools: ${(e as Error).message}`);
    }
  }
  const promptIds = (msgs: ChatMessage[]) =>
    tools ? tokenizer.encode(tokenizer.applyChatTemplate(msgs, { addGenerationPrompt: true, openThinking: think, tools })) : chatPromptIds(tokenizer, msgs, think);
  promptIds([...system, { role: 'user', content: 'hi' }]); // fail now if there is no chat template

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
    let ids = promptIds([...system, ...history]);
    const room = Math.min(opts.maxNewTokens, 64);
    while (ids.length + room > maxPos && history.length > 1) {
      history.splice(0, history[1]?.role === 'assistant' ? 2 : 1);
      ids = promptIds([...system, ...history]);
    }
    if (ids.length + 1 > maxPos) {
      // One message alone fills the context: say so and keep the session going.
      notice(`(message too long: ${ids.length} tokens with the template, the model's context is ${maxPos}; not sent)`);
      history.pop();
      if (!interactive) process.stdout.write('\n'); // keep one output line per input line on a pipe
      prompt();
      continue;
    }
    // With --tools, an answer that calls tools gets their results and answers again (at most 8 rounds).
    for (let round = 0; ; round++) {
      const [r] = generate(model, ids, {
        ...opts,
        maxNewTokens: Math.min(opts.maxNewTokens, maxPos - ids.length),
        // Each answer gets its own stream: seed + turn keeps a seeded session reproducible.
        seed: opts.seed === undefined ? undefined : opts.seed + turn,
        onToken: (e) => e.text && process.stdout.write(e.text),
      });
      process.stdout.write('\n');
      turn++;
      const text = (r.text ?? '').trim();
      history.push({ role: 'assistant', content: text });
      const calls = tools ? parseToolCalls(text) : [];
      if (calls.length === 0 || round === 7) break;
      for (const call of calls) {
        const result = await registry.run(call);
        notice(`[tool ${call.name}(${JSON.stringify(call.arguments)}) -> ${result.content}]`);
        history.push({ role: 'tool', content: result.content });
      }
      ids = promptIds([...system, ...history]);
      if (ids.length + 1 > maxPos) {
        notice(`(the conversation with the tool results fills the model's context of ${maxPos}; /reset to start over)`);
        break;
      }
    }
    prompt();
  }
  rl.close();
}
