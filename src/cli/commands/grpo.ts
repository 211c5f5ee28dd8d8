// `minimind grpo`: flags -> GrpoOptions -> grpo() (src/train/grpo.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, numberFlag, parseFlags } from '../args.js';
import { onInterrupt } from '../stage.js';
import { grpo, GRPO_DEFAULTS } from '../../train/grpo.js';
import { readRlaif, type RlPrompt } from '../../data/rl.js';
import { commandReward, gtRewardFn, httpReward, ruleReward, type RewardFunction } from '../../train/rl/reward-fns.js';
import { gtAccuracyEvaluator } from '../../train/rl/evaluate.js';

const D = GRPO_DEFAULTS;
const USAGE = `Usage: minimind grpo --data FILE --init-from MODEL_DIR [options]

Reinforcement learning with group-relative advantages (MiniMind's train_grpo.py): G samples per
prompt, rewards, A = (r - mean) / (std + 1e-4) within the group, then the CISPO or GRPO loss with a
k3 KL penalty to the frozen starting model.
Data (RLAIF jsonl: {"conversations": [{"role": "user", ...}, {"role": "assistant", "content": "..."}], "gt": [...]?}):
  --data FILE[,FILE]       prompts; the last assistant turn (if any) is dropped
  --eval-data FILE         held-out prompts with "gt": greedy answers scored every --eval-interval steps
  --init-from DIR          model folder to start from (policy and frozen reference)
  --out DIR                run folder [runs/grpo]: model/, checkpoints/, metrics.jsonl, report.html
Rewards (summed; each also logged as reward_<name>):
  --reward LIST            rules,gt [rules]: rules = MiniMind's length/think/repetition rules,
                           gt = share of the prompt's "gt" items found in the answer
  --reward-command CMD     also: a program reading one JSON sample per line on stdin
                           ({"messages","completion","gt"}) and printing one number per line
  --reward-url URL         also: POST {"samples": [...]} -> {"rewards": [...]}
Algorithm (MiniMind's defaults in brackets):
  --loss cispo|grpo [${D.loss}]  --num-generations N [${D.numGenerations}]  --beta X [${D.beta}]
  --epsilon X [${D.epsilon}] (grpo clip)  --epsilon-high X [${D.epsilonHigh}] (cispo cap)
  --max-gen-len N [${D.maxNewTokens}]  --max-seq-len N [${D.maxSeqLen}] (prompt tokens kept)
  --temperature X [${D.temperature}]  --top-p X [${D.topP}]  --top-k N [${D.topK}]  --thinking-ratio X [${D.thinkingRatio}]
Training:
  --epochs N [${D.epochs}]  --batch-size N [${D.batchSize}] (prompts per step)  --learning-rate X [${D.learningRate}]
  --max-steps N  --grad-clip X [${D.gradClip}]  --weight-decay X [${D.weightDecay}]  --seed N [${D.seed}]
  --log-interval N [${D.logInterval}]  --save-interval N [${D.saveInterval}]  --eval-interval N [10]
  --resume                 continue the run in --out from its latest checkpoint
  --stop-after N           stop (with a checkpoint) after N steps of this invocation
  --skip-bad-lines         skip malformed data lines instead of stopping
  --quiet                  no progress line`;

const FLAGS = {
  data: { type: 'string' }, 'eval-data': { type: 'string' }, 'init-from': { type: 'string' }, out: { type: 'string' },
  reward: { type: 'string' }, 'reward-command': { type: 'string' }, 'reward-url': { type: 'string' },
  loss: { type: 'string' }, 'num-generations': { type: 'string' }, beta: { type: 'string' }, epsilon: { type: 'string' }, 'epsilon-high': { type: 'string' },
  'max-gen-len': { type: 'string' }, 'max-seq-len': { type: 'string' }, temperature: { type: 'string' }, 'top-p': { type: 'string' }, 'top-k': { type: 'string' },
  'thinking-ratio': { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, 'learning-rate': { type: 'string' },
  'max-steps': { type: 'string' }, 'grad-clip': { type: 'string' }, 'weight-decay': { type: 'string' }, seed: { type: 'string' },
  'log-interval': { type: 'string' }, 'save-interval': { type: 'string' }, 'eval-interval': { type: 'string' },
  resume: { type: 'boolean' }, 'stop-after': { type: 'string' }, 'skip-bad-lines': { type: 'boolean' }, quiet: { type: 'boolean' },
} as const;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, FLAGS, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument '${parsed.positionals[0]}'\n\n${USAGE}`);
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const data = str('data');
  const initFrom = str('init-from');
  if (!data) throw new CliError(`--data is required\n\n${USAGE}`);
  if (!initFrom) throw new CliError(`--init-from MODEL_DIR is required\n\n${USAGE}`);
  checkModelDir(initFrom);
  const int = (k: string, min = 0) => {
    if (v[k] === undefined) return undefined;
    const n = numberFlag(v, k, 0);
    if (!Number.isInteger(n) || n < min) throw new CliError(`--${k} must be an integer ≥ ${min}, got ${n}`);
    return n;
  };
  const num = (k: string) => (v[k] === undefined ? undefined : numberFlag(v, k, 0));
  const loss = str('loss') ?? D.loss;
  if (loss !== 'cispo' && loss !== 'grpo') throw new CliError(`--loss must be cispo or grpo, got '${loss}'`);
  const rewards: RewardFunction[] = [];
  for (const name of (str('reward') ?? (str('reward-command') || str('reward-url') ? '' : 'rules')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (name === 'rules') rewards.push(ruleReward);
    else if (name === 'gt') rewards.push(gtRewardFn);
    else throw new CliError(`--reward: unknown reward '${name}' (rules, gt; or --reward-command / --reward-url)`);
  }
  if (str('reward-command')) rewards.push(commandReward(str('reward-command')!));
  if (str('reward-url')) rewards.push(httpReward(str('reward-url')!));
  const files = data.split(',').map((s) => s.trim()).filter(Boolean);
  let prompts: RlPrompt[];
  let evalPrompts: RlPrompt[] | null = null;
  try {
    prompts = await readRlaif(files, { skipBadLines: !!v['skip-bad-lines'] });
    if (rewards.includes(gtRewardFn)) {
      const missing = prompts.find((p) => !p.gt);
      if (missing) throw new Error(`${missing.source}: --reward gt needs a "gt" field on every prompt`);
    }
    if (str('eval-data')) {
      evalPrompts = await readRlaif([str('eval-data')!]);
      const missing = evalPrompts.find((p) => !p.gt);
      if (missing) throw new Error(`${missing.source}: --eval-data prompts need a "gt" field (the answer to check)`);
    }
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const out = str('out') ?? 'runs/grpo';
  const interrupt = onInterrupt(out, (m) => (v.quiet ? undefined : process.stderr.write(m + '\n')));
  const summary = await grpo({
    initFrom, prompts, out, rewards, loss, signal: interrupt.controller.signal,
    numGenerations: int('num-generations', 2), beta: num('beta'), epsilon: num('epsilon'), epsilonHigh: num('epsilon-high'),
    maxNewTokens: int('max-gen-len', 1), maxSeqLen: int('max-seq-len', 1), temperature: num('temperature'), topP: num('top-p'), topK: int('top-k'),
    thinkingRatio: num('thinking-ratio'), epochs: int('epochs', 1), batchSize: int('batch-size', 1), learningRate: num('learning-rate'),
    maxSteps: int('max-steps', 1), gradClip: num('grad-clip'), weightDecay: num('weight-decay'), seed: int('seed'),
    logInterval: int('log-interval', 1), saveInterval: int('save-interval', 1), evalInterval: int('eval-interval', 1),
    evaluate: evalPrompts ? gtAccuracyEvaluator(evalPrompts, { maxNewTokens: int('max-gen-len', 1) ?? 64 }) : undefined,
    resume: !!v.resume, stopAfterSteps: int('stop-after', 1), quiet: !!v.quiet,
  }).catch((e: Error) => {
    // settings and files the user gave are the usual cause: one line, no stack
    if (/^(--resume|grpo:)/.test(e.message)) throw new CliError(e.message);
    throw e;
  }).finally(interrupt.dispose);
  if (interrupt.controller.signal.aborted && summary.stoppedEarly) {
    process.stderr.write(`minimind: interrupted at step ${summary.steps}; checkpoint ${join(out, 'checkpoints')}; continue with the same command and --resume\n`);
    process.exitCode = 130;
  }
  if (!v.quiet) process.stderr.write(`grpo: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s; model in ${summary.modelDir}\n`);
}

/** A model folder must hold the weights' config and a tokenizer (the template the prompts use). */
export function checkModelDir(dir: string): void {
  if (!existsSync(dir)) throw new CliError(`model folder not found: ${dir}`);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    if (!existsSync(join(dir, f))) throw new CliError(`${dir} has no ${f} (give a model folder such as runs/sft/model)`);
  }
}
