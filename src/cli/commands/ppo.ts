// `minimind ppo`: flags -> PpoOptions -> ppo() (src/train/ppo.ts).
import { CliError, parseFlags } from '../args.js';
import { onInterrupt } from '../stage.js';
import { ppo, PPO_DEFAULTS } from '../../train/ppo.js';
import { readRlaif, type RlPrompt } from '../../data/rl.js';
import { commandReward, gtRewardFn, httpReward, ruleReward, type RewardFunction } from '../../train/rl/reward-fns.js';
import { gtAccuracyEvaluator } from '../../train/rl/evaluate.js';
import { asUserError, checkModelDir, commonRlOptions, intFlag, numFlag, reportInterrupt, RL_FLAGS, str } from './rl-flags.js';

const D = PPO_DEFAULTS;
const USAGE = `Usage: minimind ppo --data FILE --init-from MODEL_DIR [options]

Proximal policy optimisation with a critic (MiniMind's train_ppo.py): one sample per prompt, the
reward on its last token, a critic (the model with a value head, started from the same weights),
GAE, whitened advantages, clipped policy and value losses, PPO epochs over minibatches with an
approximate-KL early stop, separate optimizers for actor and critic.
Data, model and rewards as in 'minimind grpo --help':
  --data FILE[,FILE]  --eval-data FILE  --init-from DIR  --out DIR [runs/ppo]  --max-seq-len N [${D.maxSeqLen}]
  --reward rules,gt [rules]  --reward-command CMD  --reward-url URL
PPO (MiniMind's defaults in brackets):
  --learning-rate X [${D.learningRate}] (actor)  --critic-learning-rate X [${D.criticLearningRate}]
  --clip-epsilon X [${D.clipEpsilon}]  --vf-coef X [${D.vfCoef}]  --kl-coef X [${D.klCoef}]  --gamma X [${D.gamma}]  --lam X [${D.lam}]
  --cliprange-value X [${D.clipRangeValue}]  --ppo-update-iters N [${D.ppoUpdateIters}]  --early-stop-kl X [${D.earlyStopKl}]  --mini-batch-size N [${D.miniBatchSize}]
  --max-gen-len N [${D.maxNewTokens}]  --temperature X [${D.temperature}]  --top-p X [${D.topP}]  --top-k N [${D.topK}]  --thinking-ratio X [${D.thinkingRatio}]
Training:
  --epochs N [${D.epochs}]  --batch-size N [${D.batchSize}]  --max-steps N  --grad-clip X [${D.gradClip}]  --weight-decay X [${D.weightDecay}]  --seed N [${D.seed}]
  --log-interval N [${D.logInterval}]  --save-interval N [${D.saveInterval}]  --eval-interval N [10]  --resume  --stop-after N  --skip-bad-lines  --quiet`;

export async function run(argv: string[]): Promise<void> {
  const extra = {
    'max-seq-len': { type: 'string' }, reward: { type: 'string' }, 'reward-command': { type: 'string' }, 'reward-url': { type: 'string' },
    'critic-learning-rate': { type: 'string' }, 'clip-epsilon': { type: 'string' }, 'vf-coef': { type: 'string' }, 'kl-coef': { type: 'string' },
    gamma: { type: 'string' }, lam: { type: 'string' }, 'cliprange-value': { type: 'string' }, 'ppo-update-iters': { type: 'string' },
    'early-stop-kl': { type: 'string' }, 'mini-batch-size': { type: 'string' },
  } as const;
  const parsed = parseFlags(argv, { ...RL_FLAGS, ...extra }, USAGE);
  if (!parsed) return;
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument '${parsed.positionals[0]}'\n\n${USAGE}`);
  for (const k of ['loss', 'num-generations', 'beta', 'epsilon', 'epsilon-high']) if (v[k] !== undefined) throw new CliError(`--${k} is a grpo/agent option; ppo uses --clip-epsilon and --kl-coef`);
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
    if (rewards.includes(gtRewardFn) && prompts.some((p) => !p.gt)) throw new Error(`${prompts.find((p) => !p.gt)!.source}: --reward gt needs a "gt" field on every prompt`);
    if (str(v, 'eval-data')) evalPrompts = await readRlaif([str(v, 'eval-data')!]);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const { loss: _l, numGenerations: _n, beta: _b, epsilon: _e, epsilonHigh: _h, ...rest } = common;
  const out = str(v, 'out') ?? 'runs/ppo';
  const interrupt = onInterrupt(out, (m) => (common.quiet ? undefined : process.stderr.write(m + '\n')));
  const summary = await ppo({
    ...rest, initFrom, prompts, rewards, out, signal: interrupt.controller.signal, maxSeqLen: intFlag(v, 'max-seq-len', 1),
    criticLearningRate: numFlag(v, 'critic-learning-rate'), clipEpsilon: numFlag(v, 'clip-epsilon'), vfCoef: numFlag(v, 'vf-coef'), klCoef: numFlag(v, 'kl-coef'),
    gamma: numFlag(v, 'gamma'), lam: numFlag(v, 'lam'), clipRangeValue: numFlag(v, 'cliprange-value'), ppoUpdateIters: intFlag(v, 'ppo-update-iters', 1),
    earlyStopKl: numFlag(v, 'early-stop-kl'), miniBatchSize: intFlag(v, 'mini-batch-size', 1),
    evaluate: evalPrompts ? gtAccuracyEvaluator(evalPrompts, { maxNewTokens: common.maxNewTokens ?? 128 }) : undefined,
  })
    .catch(asUserError('ppo'))
    .finally(interrupt.dispose);
  reportInterrupt(interrupt.controller.signal, summary, out);
  if (!common.quiet) process.stderr.write(`ppo: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s; model in ${summary.modelDir}\n`);
}
