// `minimind grpo`: flags -> GrpoOptions -> grpo() (src/train/grpo.ts).
import { CliError, parseFlags } from '../args.js';
import { onInterrupt } from '../stage.js';
import { grpo, GRPO_DEFAULTS } from '../../train/grpo.js';
import { readRlaif, type RlPrompt } from '../../data/rl.js';
import { commandReward, gtRewardFn, httpReward, ruleReward, type RewardFunction } from '../../train/rl/reward-fns.js';
import { gtAccuracyEvaluator } from '../../train/rl/evaluate.js';
import { asUserError, checkModelDir, commonRlOptions, intFlag, reportInterrupt, RL_FLAGS, rlUsage, str } from './rl-flags.js';

const USAGE = `Usage: minimind grpo --data FILE --init-from MODEL_DIR [options]

Reinforcement learning with group-relative advantages (MiniMind's train_grpo.py): G samples per
prompt, rewards, A = (r - mean) / (std + 1e-4) within the group, then the CISPO or GRPO loss with a
k3 KL penalty to the frozen starting model.
Data (RLAIF jsonl: {"conversations": [{"role": "user", ...}, {"role": "assistant", "content": "..."}], "gt": [...]?}):
  --data FILE[,FILE]       prompts; the last assistant turn (if any) is dropped
  --eval-data FILE         held-out prompts with "gt": greedy answers scored every --eval-interval steps
  --init-from DIR          model folder to start from (policy and frozen reference)
  --out DIR                run folder [runs/grpo]: model/, checkpoints/, metrics.jsonl, report.html
  --max-seq-len N [${GRPO_DEFAULTS.maxSeqLen}]  prompt tokens kept (the last ones)
Rewards (summed; each also logged as reward_<name>):
  --reward LIST            rules,gt [rules]: rules = MiniMind's length/think/repetition rules,
                           gt = share of the prompt's "gt" items found in the answer
  --reward-command CMD     also: a program reading one JSON sample per line on stdin
                           ({"messages","completion","gt"}) and printing one number per line
  --reward-url URL         also: POST {"samples": [...]} -> {"rewards": [...]}
${rlUsage(GRPO_DEFAULTS)}`;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, { ...RL_FLAGS, 'max-seq-len': { type: 'string' }, reward: { type: 'string' }, 'reward-command': { type: 'string' }, 'reward-url': { type: 'string' } }, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument '${parsed.positionals[0]}'\n\n${USAGE}`);
  const data = str(v, 'data');
  const initFrom = str(v, 'init-from');
  if (!data) throw new CliError(`--data is required\n\n${USAGE}`);
  if (!initFrom) throw new CliError(`--init-from MODEL_DIR is required\n\n${USAGE}`);
  checkModelDir(initFrom);
  const common = commonRlOptions(v);
  const rewards: RewardFunction[] = [];
  const external = str(v, 'reward-command') || str(v, 'reward-url');
  for (const name of (str(v, 'reward') ?? (external ? '' : 'rules')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (name === 'rules') rewards.push(ruleReward);
    else if (name === 'gt') rewards.push(gtRewardFn);
    else throw new CliError(`--reward: unknown reward '${name}' (rules, gt; or --reward-command / --reward-url)`);
  }
  if (str(v, 'reward-command')) rewards.push(commandReward(str(v, 'reward-command')!));
  if (str(v, 'reward-url')) rewards.push(httpReward(str(v, 'reward-url')!));
  let prompts: RlPrompt[];
  let evalPrompts: RlPrompt[] | null = null;
  try {
    prompts = await readRlaif(data.split(',').map((s) => s.trim()).filter(Boolean), { skipBadLines: !!v['skip-bad-lines'] });
    if (rewards.includes(gtRewardFn)) {
      const missing = prompts.find((p) => !p.gt);
      if (missing) throw new Error(`${missing.source}: --reward gt needs a "gt" field on every prompt`);
    }
    if (str(v, 'eval-data')) {
      evalPrompts = await readRlaif([str(v, 'eval-data')!]);
      const missing = evalPrompts.find((p) => !p.gt);
      if (missing) throw new Error(`${missing.source}: --eval-data prompts need a "gt" field (the answer to check)`);
    }
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const out = str(v, 'out') ?? 'runs/grpo';
  const interrupt = onInterrupt(out, (m) => (common.quiet ? undefined : process.stderr.write(m + '\n')));
  const summary = await grpo({
    ...common, initFrom, prompts, rewards, out, maxSeqLen: intFlag(v, 'max-seq-len', 1), signal: interrupt.controller.signal,
    evaluate: evalPrompts ? gtAccuracyEvaluator(evalPrompts, { maxNewTokens: common.maxNewTokens ?? 128 }) : undefined,
  })
    .catch(asUserError('grpo'))
    .finally(interrupt.dispose);
  reportInterrupt(interrupt.controller.signal, summary, out);
  if (!common.quiet) process.stderr.write(`grpo: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s; model in ${summary.modelDir}\n`);
}
