// `minimind agent`: flags -> AgentOptions -> agent() (src/train/agent.ts).
import { CliError, parseFlags } from '../args.js';
import { onInterrupt } from '../stage.js';
import { agent, AGENT_DEFAULTS } from '../../train/agent.js';
import { readAgentRl, type RlPrompt } from '../../data/rl.js';
import { mockToolRegistry } from '../../tools/mock.js';
import { agentAccuracyEvaluator } from '../../train/rl/evaluate.js';
import { asUserError, checkModelDir, commonRlOptions, intFlag, reportInterrupt, RL_FLAGS, rlUsage, str } from './rl-flags.js';

const USAGE = `Usage: minimind agent --data FILE --init-from MODEL_DIR [options]

Agentic RL with tools (MiniMind's train_agent.py): G multi-turn rollouts per prompt in which the
model may call tools (MiniMind's mock tools: calculate_math, unit_converter, get_current_weather,
get_current_time, get_exchange_rate, translate_text, random_number, text_length), read their
results and answer; rewarded for calling the right number of valid tools and for the ground truth
in its final answer; tool results are in the sequence but never trained.
Data (agent_rl jsonl: {"conversations": [{"role": "system", "content": "", "tools": "[...]"}, {"role": "user", ...}, ...], "gt": ["42"]}):
  --data FILE[,FILE]       prompts with tools and ground truth
  --eval-data FILE         held-out prompts: greedy tool loop, share of final answers with the gt
  --init-from DIR          model folder to start from (policy and frozen reference)
  --out DIR                run folder [runs/agent]
  --max-turns N [${AGENT_DEFAULTS.maxTurns}]  --max-total-len N [${AGENT_DEFAULTS.maxTotalLen}] (training tokens kept per rollout)
${rlUsage(AGENT_DEFAULTS)}`;

export async function run(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, { ...RL_FLAGS, 'max-turns': { type: 'string' }, 'max-total-len': { type: 'string' } }, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument '${parsed.positionals[0]}'\n\n${USAGE}`);
  const data = str(v, 'data');
  const initFrom = str(v, 'init-from');
  if (!data) throw new CliError(`--data is required\n\n${USAGE}`);
  if (!initFrom) throw new CliError(`--init-from MODEL_DIR is required\n\n${USAGE}`);
  checkModelDir(initFrom);
  const common = commonRlOptions(v);
  let prompts: RlPrompt[];
  let evalPrompts: RlPrompt[] | null = null;
  try {
    prompts = await readAgentRl(data.split(',').map((s) => s.trim()).filter(Boolean), { skipBadLines: !!v['skip-bad-lines'] });
    if (str(v, 'eval-data')) evalPrompts = await readAgentRl([str(v, 'eval-data')!]);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const registry = mockToolRegistry();
  const maxTurns = intFlag(v, 'max-turns', 1);
  const out = str(v, 'out') ?? 'runs/agent';
  const interrupt = onInterrupt(out, (m) => (common.quiet ? undefined : process.stderr.write(m + '\n')));
  const summary = await agent({
    ...common, initFrom, prompts, registry, out, signal: interrupt.controller.signal, maxTurns, maxTotalLen: intFlag(v, 'max-total-len', 2),
    evaluate: evalPrompts ? agentAccuracyEvaluator(evalPrompts, registry, { maxNewTokens: common.maxNewTokens ?? 256, maxTurns }) : undefined,
  })
    .catch(asUserError('agent'))
    .finally(interrupt.dispose);
  reportInterrupt(interrupt.controller.signal, summary, out);
  if (!common.quiet) process.stderr.write(`agent: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s; model in ${summary.modelDir}\n`);
}
