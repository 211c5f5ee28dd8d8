// What `minimind grpo`, `ppo` and `agent` share: their flags (MiniMind's argparse names in
// --kebab-case: data, model, the policy-gradient algorithm, sampling and training settings), the
// reward flags, and the command around the stage (runRlCommand).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, FlagSpec, numberFlag, parseFlags } from '../args.js';
import { flagOptions, NUMBER, runStageCommand, STAGE_FLAGS, TEXT } from '../stage.js';
import type { GrpoOptions } from '../../train/grpo.js';
import { refuseOverlap } from '../../core/paths.js';
import type { ReadRlOptions, RlPrompt } from '../../data/rl.js';
import type { RlSummary } from '../../train/rl/stage.js';
import { fileList, type StageOptions } from '../../train/options.js';
import { commandReward, gtRewardFn, httpReward, ruleReward, type RewardFunction } from '../../train/rl/reward-fns.js';
import { rewardModelFn } from '../../train/rl/reward-model.js';
import { swapHint } from '../../core/temp-paths.js';

/** The one flag table (STAGE_FLAGS) extended by what the RL stages add: the model to start from, the policy-gradient loss and sampling. */
export const RL_FLAGS: FlagSpec = {
  ...STAGE_FLAGS,
  'init-from': TEXT, loss: TEXT, 'num-generations': NUMBER, beta: NUMBER, epsilon: NUMBER, 'epsilon-high': NUMBER,
  'max-gen-len': NUMBER, temperature: NUMBER, 'top-p': NUMBER, 'top-k': NUMBER, 'thinking-ratio': NUMBER,
};

export interface RlDefaults {
  loss: string; numGenerations: number; beta: number; epsilon: number; epsilonHigh: number; maxNewTokens: number; temperature: number; topP: number; topK: number;
  thinkingRatio: number; epochs: number; batchSize: number; learningRate: number; gradClip: number; weightDecay: number; seed: number; logInterval: number; saveInterval: number;
}

export function rlUsage(d: RlDefaults): string {
  return `Algorithm (MiniMind's defaults in brackets):
  --loss cispo|grpo [${d.loss}]  --num-generations N [${d.numGenerations}] (samples per prompt)  --beta X [${d.beta}] (KL)
  --epsilon X [${d.epsilon}] (grpo clip)  --epsilon-high X [${d.epsilonHigh}] (cispo cap)  --max-gen-len N [${d.maxNewTokens}]
  --temperature X [${d.temperature}]  --top-p X [${d.topP}]  --top-k N [${d.topK}]  --thinking-ratio X [${d.thinkingRatio}]
Training:
  --epochs N [${d.epochs}]  --batch-size N [${d.batchSize}] (prompts per step)  --learning-rate X [${d.learningRate}]
  --max-steps N  --grad-clip X [${d.gradClip}]  --weight-decay X [${d.weightDecay}]  --seed N [${d.seed}]
  --log-interval N [${d.logInterval}]  --save-interval N [${d.saveInterval}]  --eval-interval N [10]
  --resume                 continue the run in --out from its latest checkpoint
  --overwrite              replace the run already in --out (kept until the new run's first checkpoint)
  --stop-after N           stop (with a checkpoint) after N steps of this invocation
  --skip-bad-lines         skip malformed data lines instead of stopping
  --save-dtype fp32|bf16|fp16  precision of the saved model weights [fp32]
  --quiet                  no progress line`;
}

export type Values = Record<string, string | number | boolean | string[] | undefined>;

export function str(v: Values, k: string): string | undefined {
  return typeof v[k] === 'string' ? (v[k] as string) : undefined;
}

export function intFlag(v: Values, k: string, min = 0): number | undefined {
  if (v[k] === undefined) return undefined;
  const n = numberFlag(v, k, 0);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${k} must be an integer ≥ ${min}, got ${n}`);
  return n;
}

export function numFlag(v: Values, k: string): number | undefined {
  return v[k] === undefined ? undefined : numberFlag(v, k, 0);
}

/** Flags the command itself reads (data, rewards), not options of the stage. */
const COMMAND_ONLY = ['data', 'eval-data', 'skip-bad-lines', 'init-from', 'out'];

/** The options every RL stage shares, from the flags (as library options; the library checks them). */
export function commonRlOptions(v: Values) {
  const shared = Object.fromEntries(Object.keys(RL_FLAGS).filter((k) => !COMMAND_ONLY.includes(k)).map((k) => [k, v[k]]));
  return flagOptions(shared, { 'max-gen-len': 'maxNewTokens' }) as Partial<Omit<GrpoOptions, 'prompts' | 'initFrom' | 'out' | 'rewards'>> & { quiet?: boolean };
}

/** A model folder must hold the weights' config and a tokenizer (the template the prompts use). */
export function checkModelDir(dir: string): void {
  if (!existsSync(dir)) throw new CliError(`model folder not found: ${dir}${swapHint(dir)}`);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    if (!existsSync(join(dir, f))) throw new CliError(`${dir} has no ${f} (give a model folder such as runs/sft/model)`);
  }
}

/** The reward flags of grpo and ppo. */
export const REWARD_FLAGS: FlagSpec = {
  reward: { type: 'string' }, 'reward-command': { type: 'string' }, 'reward-url': { type: 'string' }, 'reward-model': { type: 'string' },
};

export const REWARD_USAGE = `Rewards (summed; each also logged as reward_<name>):
  --reward LIST            rules,gt [rules]: rules = MiniMind's length/think/repetition rules,
                           gt = share of the prompt's "gt" items found in the answer
  --reward-model DIR       also: a reward model folder (a model with a scalar head, stored as
                           transformers' *ForSequenceClassification: score.weight (1, hidden));
                           the conversation + answer in its chat template, scored at the last
                           token, clipped to [-3, 3]
  --reward-command CMD     also: a program reading one JSON sample per line on stdin
                           ({"messages","completion","gt"}) and printing one number per line
  --reward-url URL         also: POST {"samples": [...]} -> {"rewards": [...]}`;

/** --reward / --reward-model / --reward-command / --reward-url -> the reward functions (rules when none is given). */
export function rewardsFromFlags(v: Values): RewardFunction[] {
  const rewards: RewardFunction[] = [];
  const external = str(v, 'reward-command') || str(v, 'reward-url') || str(v, 'reward-model');
  for (const name of (str(v, 'reward') ?? (external ? '' : 'rules')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (name === 'rules') rewards.push(ruleReward);
    else if (name === 'gt') rewards.push(gtRewardFn);
    else throw new CliError(`--reward: unknown reward '${name}' (rules, gt; or --reward-model / --reward-command / --reward-url)`);
  }
  const rm = str(v, 'reward-model');
  if (rm) {
    try {
      rewards.push(rewardModelFn(rm));
    } catch (e) {
      throw new CliError(`--reward-model: ${(e as Error).message}`);
    }
  }
  if (str(v, 'reward-command')) rewards.push(commandReward(str(v, 'reward-command')!));
  if (str(v, 'reward-url')) rewards.push(httpReward(str(v, 'reward-url')!));
  return rewards;
}

export interface RlCommandInput {
  v: Values;
  /** The shared options from the flags, with the command's progress line, messages and Ctrl-C. */
  common: Omit<ReturnType<typeof commonRlOptions>, 'quiet'> & Pick<StageOptions, 'onProgress' | 'log' | 'signal'>;
  initFrom: string;
  prompts: RlPrompt[];
  /** --eval-data, read as the training data is. */
  evalPrompts: RlPrompt[] | null;
  /** The reward flags' functions (grpo, ppo). */
  rewards: RewardFunction[];
  out: string;
}

/**
 * The flags of an RL command (null after --help): what `minimind launch` checks (data, held-out
 * data, the model folder, the run folder) before it starts any rank, and the rest for the stage.
 */
export function rlCommandOptions(argv: string[], c: { stage: string; usage: string; flags: FlagSpec }): { v: Values; data: string; evalData?: string; initFrom: string; out: string } | null {
  const parsed = parseFlags(argv, { ...RL_FLAGS, ...c.flags }, c.usage);
  if (!parsed) return null;
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument '${parsed.positionals[0]}'\n\n${c.usage}`);
  const data = str(v, 'data');
  const initFrom = str(v, 'init-from');
  if (!data) throw new CliError(`--data is required\n\n${c.usage}`);
  if (!initFrom) throw new CliError(`--init-from MODEL_DIR is required\n\n${c.usage}`);
  return { v, data, evalData: str(v, 'eval-data'), initFrom, out: str(v, 'out') ?? `runs/${c.stage}` };
}

/**
 * What grpo, ppo and agent do around their stage: flags (RL_FLAGS + the stage's own), the data
 * and model folder checks, the prompts, then the stage as every stage runs as a command
 * (runStageCommand: progress line, Ctrl-C = checkpoint and stop with exit code 130).
 */
export async function runRlCommand(
  argv: string[],
  c: {
    stage: 'grpo' | 'ppo' | 'agent';
    usage: string;
    flags: FlagSpec;
    /** readRlaif or readAgentRl. */
    read: (files: string[], o: ReadRlOptions) => Promise<RlPrompt[]>;
    /** Flag checks before any data is read (CliError). */
    checkFlags?: (v: Values) => void;
    /** Whether the command takes the reward flags (REWARD_FLAGS). */
    rewards?: boolean;
    /** Data checks (an Error becomes one `minimind:` line). */
    checkData?: (prompts: RlPrompt[], evalPrompts: RlPrompt[] | null, rewards: RewardFunction[]) => void;
    run: (x: RlCommandInput) => Promise<RlSummary>;
  },
): Promise<void> {
  const o = rlCommandOptions(argv, c);
  if (!o) return;
  const { v, initFrom, out } = o;
  c.checkFlags?.(v);
  checkModelDir(initFrom);
  // --data and --eval-data are comma-separated lists, read as the supervised stages and `launch` read them
  const dataFiles = fileList(str(v, 'data'));
  const evalFiles = fileList(str(v, 'eval-data'));
  refuseOverlap(['--out', out], [...dataFiles.map((f) => ['--data', f] as [string, string]), ...evalFiles.map((f) => ['--eval-data', f] as [string, string]), ['--init-from', initFrom], ['--reward-model', str(v, 'reward-model')]]);
  // (after the overlap check: a reward model is a whole model to load)
  const rewards = c.rewards ? rewardsFromFlags(v) : [];
  const common = commonRlOptions(v);
  let prompts: RlPrompt[];
  let evalPrompts: RlPrompt[] | null = null;
  try {
    prompts = await c.read(dataFiles, { skipBadLines: !!v['skip-bad-lines'] });
    if (evalFiles.length > 0) evalPrompts = await c.read(evalFiles, {});
    c.checkData?.(prompts, evalPrompts, rewards);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  await runStageCommand(c.stage, { ...common, out }, (o) => c.run({ v, common: o, initFrom, prompts, evalPrompts, rewards, out }));
}
