#!/usr/bin/env node
// The `minimind` command: a thin dispatcher. Each subcommand lives in its own file under
// commands/ and is loaded only when used, so `minimind --help` starts instantly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { CliError } from './args.js';
import { isOutOfMemory, quoteUserText, UserError } from '../core/errors.js';

interface Command {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<void> }>;
}

const commands: Record<string, Command> = {
  quickstart: { summary: 'train a tokenizer and a small chat model on built-in data, end to end', load: () => import('./commands/quickstart.js') },
  data: { summary: 'inspect, convert, clean, deduplicate, mix, split and tokenize corpora (data stats | convert | ...)', load: () => import('./commands/data.js') },
  pipeline: { summary: 'run a whole pipeline file (data, tokenizer, pretrain, sft, ..., eval, export), resumable', load: () => import('./commands/pipeline.js') },
  tokenizer: { summary: 'train | encode | decode a byte-level BPE tokenizer', load: () => import('./commands/tokenizer.js') },
  pretrain: { summary: 'pretrain a model on jsonl text', load: () => import('./commands/pretrain.js') },
  sft: { summary: 'supervised fine-tuning on conversations', load: () => import('./commands/sft.js') },
  lora: { summary: 'LoRA fine-tuning (adapters saved alone)', load: () => import('./commands/lora.js') },
  dpo: { summary: 'direct preference optimisation on chosen/rejected pairs', load: () => import('./commands/dpo.js') },
  distill: { summary: 'distil a teacher model into a student', load: () => import('./commands/distill.js') },
  grpo: { summary: 'reinforcement learning with group-relative advantages (CISPO / GRPO)', load: () => import('./commands/grpo.js') },
  ppo: { summary: 'proximal policy optimisation with a critic (GAE, clipped losses)', load: () => import('./commands/ppo.js') },
  agent: { summary: 'agentic RL: multi-turn tool use with rewards on the final answer', load: () => import('./commands/agent.js') },
  generate: { summary: 'generate text from a model folder', load: () => import('./commands/generate.js') },
  chat: { summary: 'interactive multi-turn chat with a model folder', load: () => import('./commands/chat.js') },
  serve: { summary: 'OpenAI-compatible API server and web chat page for a model folder', load: () => import('./commands/serve.js') },
  web: { summary: 'the in-browser page (train and chat in a tab) as a static folder: web build --out site/', load: () => import('./commands/web.js') },
  import: { summary: "import a MiniMind PyTorch checkpoint (.pth) into a model folder", load: () => import('./commands/import.js') },
  export: { summary: 'export a model folder (--merge-lora), a GGUF file for llama.cpp (export gguf) or a MiniMind .pth (export pth)', load: () => import('./commands/export.js') },
  eval: { summary: 'benchmarks: C-Eval / CMMLU accuracy (ceval), perplexity and bits per byte (ppl), tool calls (toolcall)', load: () => import('./commands/eval.js') },
  launch: { summary: 'data-parallel training on several GPUs / nodes (torchrun-style: launch --nproc-per-node N pretrain ...)', load: () => import('./commands/launch.js') },
  bench: { summary: 'benchmark train | forward | generate and print one JSON line', load: () => import('./commands/bench.js') },
};

function version(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const pkg = JSON.parse(readFileSync(join(here, '..', '..', '..', 'package.json'), 'utf8'));
  return pkg.version;
}

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `minimind ${version()} — train a small GPT from scratch in TypeScript\n\nUsage: minimind <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'minimind <command> --help' for the options of one command.`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return;
  }
  const cmd = commands[name];
  if (!cmd) throw new CliError(`unknown command '${name}'. Run 'minimind --help' for the list.`);
  const mod = await cmd.load();
  await mod.run(rest);
}

// A problem with the user's input (UserError from the library, CliError from flag parsing, a
// device this machine lacks, a batch too large for the GPU) is one `minimind:` line and exit code
// 2; anything else is a bug and keeps its stack trace.
const argv = process.argv.slice(2);
main(argv).catch(async (err: unknown) => {
  // core/device.js loads every backend: imported here, not at start-up, so commands that pick no
  // device (data, tokenizer) start ~40 ms sooner; a DeviceError comes from it, so it is loaded then
  const { DeviceError } = await import('../core/device.js');
  if (err instanceof UserError || err instanceof DeviceError || isOutOfMemory(err)) {
    // One line: the problem and its fix. A usage text some commands append goes (--help shows it).
    // Control characters are escaped whatever the message echoes (a data file's bytes must never
    // drive the user's terminal); the data readers escape what they quote already.
    const [problem, usage] = err.message.split('\n\n');
    console.error(`minimind: ${quoteUserText(problem.replace(/:?\s*\n\s*/g, '; '), Infinity)}${usage !== undefined && commands[argv[0]] ? ` (see 'minimind ${argv[0]} --help')` : ''}`);
    process.exit(2);
  }
  throw err;
});
