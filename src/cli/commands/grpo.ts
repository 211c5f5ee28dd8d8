// `minimind grpo`: flags -> GrpoOptions -> grpo() (src/train/grpo.ts).
import { grpo, GRPO_DEFAULTS } from '../../train/grpo.js';
import { readRlaif } from '../../data/rl.js';
import { gtRewardFn } from '../../train/rl/reward-fns.js';
import { gtAccuracyEvaluator } from '../../train/rl/evaluate.js';
import { intFlag, REWARD_FLAGS, REWARD_USAGE, rlCommandOptions, rlUsage, runRlCommand } from './rl-flags.js';

const USAGE = `Usage: minimind grpo --data FILE --init-from MODEL_DIR [options]

Reinforcement learning with group-relative advantages (MiniMind's train_grpo.py): G samples per
prompt, rewards, A = (r - mean) / (std + 1e-4) within the group, then the CISPO or GRPO loss with a
k3 KL penalty to the frozen starting model.
Data (RLAIF jsonl: {"conversations": [{"role": "user", ...}, {"role": "assistant", "content": "..."}], "gt": [...]?}):
  --data FILE[,FILE]       prompts; the last assistant turn (if any) is dropped
  --eval-data FILE[,FILE]  held-out prompts with "gt": greedy answers scored every --eval-interval steps
  --init-from DIR          model folder to start from (policy and frozen reference)
  --out DIR                run folder [runs/grpo]: model/, checkpoints/, metrics.jsonl, report.html
  --max-seq-len N [${GRPO_DEFAULTS.maxSeqLen}]  prompt tokens kept (the last ones)
${REWARD_USAGE}
${rlUsage(GRPO_DEFAULTS)}`;

const COMMAND = { stage: 'grpo' as const, usage: USAGE, flags: { 'max-seq-len': { type: 'string' as const }, ...REWARD_FLAGS } };

/** The flags' inputs and run folder (null after --help); `launch` checks them before it starts ranks. */
export function options(argv: string[]) {
  return rlCommandOptions(argv, COMMAND);
}

export async function run(argv: string[]): Promise<void> {
  await runRlCommand(argv, {
    ...COMMAND,
    read: readRlaif,
    rewards: true,
    checkData: (prompts, evalPrompts, rewards) => {
      const missing = rewards.includes(gtRewardFn) ? prompts.find((p) => !p.gt) : undefined;
      if (missing) throw new Error(`${missing.source}: --reward gt needs a "gt" field on every prompt`);
      const noGt = evalPrompts?.find((p) => !p.gt);
      if (noGt) throw new Error(`${noGt.source}: --eval-data prompts need a "gt" field (the answer to check)`);
    },
    run: ({ v, common, initFrom, prompts, evalPrompts, rewards, out }) =>
      grpo({
        ...common, initFrom, prompts, rewards, out, maxSeqLen: intFlag(v, 'max-seq-len', 1),
        evaluate: evalPrompts ? gtAccuracyEvaluator(evalPrompts, { maxNewTokens: common.maxNewTokens ?? 128 }) : undefined,
      }),
  });
}
