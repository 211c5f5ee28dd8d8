// The command-line face of every training stage: the shared flags (MiniMind's argparse names in
// --kebab-case, the library's option names in camelCase), turning them into the stage's options,
// and running the stage with what only a command does: a progress bar, messages on stderr, and
// Ctrl-C (first: stop after this step with a checkpoint and exit 130; second: quit at once).
import { join } from 'node:path';
import { FlagSpec, CliError, numberFlag, parseFlags } from './args.js';
import type { StageDefaults, StageOptions, ModelOptions, StepReport } from '../train/options.js';
import type { TrainSummary } from '../train/trainer.js';
import { Progress } from './progress.js';
import { latestCheckpointDir } from '../train/atomic.js';

/** A flag whose value is a number (parseFlags converts it, or names the flag in one line). */
export const NUMBER = { type: 'string', number: true } as const;
export const FLAG = { type: 'boolean' } as const;
export const TEXT = { type: 'string' } as const;

/**
 * The one flag table: what every stage takes, supervised and RL alike (the loop's settings,
 * data, output, resume). SUPERVISED_FLAGS and rl-flags.ts's RL_FLAGS extend it.
 */
export const STAGE_FLAGS: FlagSpec = {
  data: TEXT,
  out: TEXT,
  'eval-data': TEXT,
  epochs: NUMBER,
  'batch-size': NUMBER,
  'learning-rate': NUMBER,
  'grad-clip': NUMBER,
  'weight-decay': NUMBER,
  'log-interval': NUMBER,
  'save-interval': NUMBER,
  'eval-interval': NUMBER,
  seed: NUMBER,
  resume: FLAG,
  overwrite: FLAG,
  'max-steps': NUMBER,
  'stop-after': NUMBER,
  'skip-bad-lines': FLAG,
  'save-dtype': TEXT,
  quiet: FLAG,
};

/** The supervised stages' flags (pretrain, sft, lora, dpo, distill). */
export const SUPERVISED_FLAGS: FlagSpec = {
  ...STAGE_FLAGS,
  'batch-size': TEXT, // N or auto
  'accumulation-steps': NUMBER,
  'max-seq-len': NUMBER,
  'warmup-steps': NUMBER,
  'eval-batches': NUMBER,
  'pad-to-max-length': FLAG,
  'sft-mask': TEXT,
  device: TEXT,
  dtype: TEXT,
  'gradient-checkpointing': FLAG,
  'max-gpu-memory': TEXT,
  threads: NUMBER,
};

/** Flags of stages that can build a new model or start from a model folder. */
export const MODEL_FLAGS: FlagSpec = {
  tokenizer: TEXT,
  'init-from': TEXT,
  preset: TEXT,
  'hidden-size': NUMBER,
  'num-hidden-layers': NUMBER,
  'use-moe': FLAG,
};

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parsed flags as library options: camelCase keys (`renames` where MiniMind's flag and our option differ), --quiet kept for the command. */
export function flagOptions(values: Record<string, unknown>, renames: Record<string, string> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [flag, v] of Object.entries(values)) if (v !== undefined) o[renames[flag] ?? camel(flag)] = v;
  return o;
}

export function stageUsage(d: StageDefaults): string {
  return `Data and output:
  --data FILE[,FILE]       training data (.jsonl; v1 .csv / token .bin where the stage allows)
  --eval-data FILE         held-out data: its loss is logged every --eval-interval steps and at the end
  --out DIR                run folder [runs/<stage>]: model/, checkpoints/, metrics.jsonl, report.html, cache/
  --resume                 continue the run in --out from its newest complete checkpoint, exactly
  --overwrite              replace the run already in --out (without it, an existing run is never touched)
  --skip-bad-lines         skip (and count) malformed lines instead of stopping at the first
  --threads N              worker threads that tokenize .jsonl / .csv into cache/ [cores - 1, at most 8];
                           the cache is byte for byte the same for any N
Training (MiniMind's defaults for this stage in brackets):
  --epochs N [${d.epochs}]  --batch-size N|auto [${d.batchSize}]  --learning-rate X [${d.learningRate}]
  --accumulation-steps N [${d.accumulationSteps}]  --max-seq-len N [${d.maxSeqLen}]  --grad-clip X [1.0]
  --warmup-steps N [0]  --weight-decay X [0.01]  --seed N [42]  --max-steps N (cap optimizer steps)
  --stop-after N           stop (with a checkpoint) after N optimizer steps of this invocation; --resume continues
  --log-interval N [${d.logInterval}]  --save-interval N [${d.saveInterval}]
  --eval-interval N [0: only at the end]  --eval-batches N [20]   (held-out loss, with --eval-data)
  --pad-to-max-length      pad every batch to --max-seq-len as MiniMind does (default: to the longest row)
  --device cpu|cuda|webgpu|auto where to train [cpu]   --dtype fp32|bf16   training precision [bf16 on a GPU, else fp32]
  --save-dtype fp32|bf16|fp16   precision of the saved model weights [fp32] (checkpoints stay fp32)
  --gradient-checkpointing recompute each layer and the LM head in backward: far less memory, ~1/3 more compute
  --max-gpu-memory SIZE    cap the GPU memory training holds (8G, 512M): a smaller card, simulated
  --batch-size auto        GPU: the largest micro-batch that fits; accumulation keeps batch x accumulation steps
  --quiet                  no progress bar
Ctrl-C stops after the current step with a checkpoint (exit code 130); --resume continues.`;
}

/**
 * Parses a supervised stage's flags into its options object (camelCase keys, numbers as numbers).
 * Returns null after --help.
 */
export function parseStageFlags<O>(stage: string, argv: string[], extra: FlagSpec, usage: string): O | null {
  const parsed = parseFlags(argv, { ...SUPERVISED_FLAGS, ...extra }, usage);
  if (!parsed) return null;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument '${parsed.positionals[0]}'\n\n${usage}`);
  const o = flagOptions(parsed.values);
  if (o.batchSize !== undefined && o.batchSize !== 'auto') o.batchSize = numberFlag(parsed.values, 'batch-size', NaN);
  if (o.data === undefined) throw new CliError(`--data is required\n\n${usage}`);
  o.out ??= join('runs', stage);
  return o as O;
}

/** What a command shows of a step besides the loss and lr: the held-out loss, RL's reward, KL and length. */
const SHOWN = ['reward', 'kl', 'len'];

/**
 * Runs a stage as a command: progress bar and messages on stderr (unless --quiet), Ctrl-C
 * handling, and the exit code: 130 when interrupted (after saying where the checkpoint is).
 */
export async function runStageCommand<O extends { out: string; quiet?: boolean; logInterval?: number }, S extends Pick<TrainSummary, 'steps' | 'interrupted' | 'checkpointDir'>>(
  stage: string,
  options: O,
  fn: (o: Omit<O, 'quiet'> & Pick<StageOptions, 'onProgress' | 'log' | 'signal'>) => Promise<S>,
): Promise<S> {
  // under `minimind launch` rank 0 speaks for the job; the other ranks print only their errors
  const follower = process.env.RANK !== undefined && process.env.RANK !== '0';
  const quiet = !!options.quiet || follower;
  let progress = null as Progress | null;
  const say = (m: string) => {
    if (quiet) return;
    if (progress) progress.log(m);
    else process.stderr.write(m + '\n');
  };
  const onProgress = (r: StepReport) => {
    if (quiet) return;
    if (progress && progress.label !== r.stage) progress.finish(); // the quickstart runs two stages
    if (!progress || progress.label !== r.stage) progress = new Progress(r.stage, r.totalSteps, { logEvery: options.logInterval ?? 100 });
    const extra: Record<string, number> = r.evalLoss !== null ? { eval: r.evalLoss } : {};
    for (const k of SHOWN) if (r.logs[k] !== undefined) extra[k] = r.logs[k];
    progress.update(r.step, r.tokens, { loss: r.loss, lr: r.lr, extra });
  };
  const interrupt = onInterrupt(options.out, say);
  const controller = interrupt.controller;
  try {
    const { quiet: _q, ...rest } = options;
    const summary = await fn({ ...rest, onProgress, log: say, signal: controller.signal });
    if (summary.interrupted) {
      if (!follower) process.stderr.write(`minimind: interrupted at step ${summary.steps}; checkpoint ${summary.checkpointDir}; continue with the same command and --resume\n`);
      process.exitCode = 130;
    }
    return summary;
  } finally {
    progress?.finish();
    interrupt.dispose();
  }
}

/**
 * Ctrl-C for a command that trains into `out`: the first aborts the returned controller (the
 * library stops after the current step with a checkpoint); the second quits at once with exit
 * code 130, naming the last complete checkpoint. SIGTERM quits at once with exit code 143.
 */
export function onInterrupt(out: string, say: (m: string) => void): { controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  // Quitting goes through process.exit, whose exit handlers run: an --overwrite run puts back the
  // earlier run it had set aside (train/run-folder.ts); a signal's default action would skip them.
  const quit = (code: number, why: string, silent = false) => {
    const ckpt = latestCheckpointDir(join(out, 'checkpoints'));
    if (!silent) process.stderr.write(`\nminimind: ${why}; ${ckpt ? `the last complete checkpoint is ${ckpt} (continue with --resume)` : 'no checkpoint was written yet'}\n`);
    process.exit(code);
  };
  const onSigint = () => {
    if (controller.signal.aborted) quit(130, 'quit');
    controller.abort();
    say('\ninterrupted: saving a checkpoint after this step (Ctrl-C again to quit now; the last checkpoint stays valid)');
  };
  // `kill` (a scheduler's time limit, `launch` stopping the ranks after one failed) ends the run at
  // once, as its default action does, but through quit(). (SIGHUP is left alone: a listener would
  // undo `nohup`.)
  // (under `minimind launch` the launcher names the rank that failed and stops the others itself)
  const onSigterm = () => quit(143, 'terminated (SIGTERM)', process.env.RANK !== undefined);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return {
    controller,
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}
