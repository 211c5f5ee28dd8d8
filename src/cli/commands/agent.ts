// `minimind agent`: flags -> AgentOptions -> agent() (src/train/agent.ts).
import { agent, AGENT_DEFAULTS } from '../../train/agent.js';
import { readAgentRl } from '../../data/rl.js';
import { mockToolRegistry } from '../../tools/mock.js';
import { agentAccuracyEvaluator } from '../../train/rl/evaluate.js';
import { intFlag, rlCommandOptions, rlUsage, runRlCommand } from './rl-flags.js';

const USAGE = `Usage: minimind agent --data FILE --init-from MODEL_DIR [options]

Agentic RL with tools (MiniMind's train_agent.py): G multi-turn rollouts per prompt in which the
model may call tools (MiniMind's mock tools: calculate_math, unit_converter, get_current_weather,
get_current_time, get_exchange_rate, translate_text, random_number, text_length), read their
results and answer; rewarded for calling the right number of valid tools and for the ground truth
in its final answer; tool results are in the sequence but never trained.
Data (agent_rl jsonl: {"conversations": [{"role": "system", "content": "", "tools": "[...]"}, {"role": "user", ...}, ...], "gt": ["42"]}):
  --data FILE[,FILE]       prompts with tools and ground truth
  --eval-data FILE[,FILE]  held-out prompts: greedy tool loop, share of final answers with the gt
  --init-from DIR          model folder to start from (policy and frozen reference)
  --out DIR                run folder [runs/agent]
  --max-turns N [${AGENT_DEFAULTS.maxTurns}]  --max-total-len N [${AGENT_DEFAULTS.maxTotalLen}] (training tokens kept per rollout)
${rlUsage(AGENT_DEFAULTS)}`;

const COMMAND = { stage: 'agent' as const, usage: USAGE, flags: { 'max-turns': { type: 'string' as const }, 'max-total-len': { type: 'string' as const } } };

/** The flags' inputs and run folder (null after --help); `launch` checks them before it starts ranks. */
export function options(argv: string[]) {
  return rlCommandOptions(argv, COMMAND);
}

export async function run(argv: string[]): Promise<void> {
  const registry = mockToolRegistry();
  await runRlCommand(argv, {
    ...COMMAND,
    read: readAgentRl,
    run: ({ v, common, initFrom, prompts, evalPrompts, out }) => {
      const maxTurns = intFlag(v, 'max-turns', 1);
      return agent({
        ...common, initFrom, prompts, registry, out, maxTurns, maxTotalLen: intFlag(v, 'max-total-len', 2),
        evaluate: evalPrompts ? agentAccuracyEvaluator(evalPrompts, registry, { maxNewTokens: common.maxNewTokens ?? 256, maxTurns }) : undefined,
      });
    },
  });
}
