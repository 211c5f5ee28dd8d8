// `minimind ppo`: flags -> PpoOptions -> ppo() (src/train/ppo.ts).
import { CliError } from '../args.js';
import { ppo, PPO_DEFAULTS } from '../../train/ppo.js';
import { readRlaif } from '../../data/rl.js';
import { gtRewardFn } from '../../train/rl/reward-fns.js';
import { gtAccuracyEvaluator } from '../../train/rl/evaluate.js';
import { intFlag, numFlag, REWARD_FLAGS, runRlCommand } from './rl-flags.js';

const D = PPO_DEFAULTS;
const USAGE = `Usage: minimind ppo --data FILE --init-from MODEL_DIR [options]

Proximal policy optimisation with a critic (MiniMind's train_ppo.py): one sample per prompt, the
reward on its last token, a critic (the model with a value head, started from the same weights),
GAE, whitened advantages, clipped policy and value losses, PPO epochs over minibatches with an
approximate-KL early stop, separate optimizers for actor and critic.
Data, model and rewards as in 'minimind grpo --help':
  --data FILE[,FILE]  --eval-data FILE[,FILE]  --init-from DIR  --out DIR [runs/ppo]  --max-seq-len N [${D.maxSeqLen}]
  --reward rules,gt [rules]  --reward-model DIR  --reward-command CMD  --reward-url URL
PPO (MiniMind's defaults in brackets):
  --learning-rate X [${D.learningRate}] (actor)  --critic-learning-rate X [${D.criticLearningRate}]
  --clip-epsilon X [${D.clipEpsilon}]  --vf-coef X [${D.vfCoef}]  --kl-coef X [${D.klCoef}]  --gamma X [${D.gamma}]  --lam X [${D.lam}]
  --cliprange-value X [${D.clipRangeValue}]  --ppo-update-iters N [${D.ppoUpdateIters}]  --early-stop-kl X [${D.earlyStopKl}]  --mini-batch-size N [${D.miniBatchSize}]
  --max-gen-len N [${D.maxNewTokens}]  --temperature X [${D.temperature}]  --top-p X [${D.topP}]  --top-k N [${D.topK}]  --thinking-ratio X [${D.thinkingRatio}]
Training:
  --epochs N [${D.epochs}]  --batch-size N [${D.batchSize}]  --max-steps N  --grad-clip X [${D.gradClip}]  --weight-decay X [${D.weightDecay}]  --seed N [${D.seed}]
  --log-interval N [${D.logInterval}]  --save-interval N [${D.saveInterval}]  --eval-interval N [10]  --resume  --stop-after N  --skip-bad-lines  --quiet`;

const PPO_FLAGS = Object.fromEntries(
  ['max-seq-len', 'critic-learning-rate', 'clip-epsilon', 'vf-coef', 'kl-coef', 'gamma', 'lam', 'cliprange-value', 'ppo-update-iters', 'early-stop-kl', 'mini-batch-size'].map((k) => [k, { type: 'string' as const }]),
);

export async function run(argv: string[]): Promise<void> {
  await runRlCommand(argv, {
    stage: 'ppo',
    usage: USAGE,
    flags: { ...PPO_FLAGS, ...REWARD_FLAGS },
    read: readRlaif,
    checkFlags: (v) => {
      for (const k of ['loss', 'num-generations', 'beta', 'epsilon', 'epsilon-high']) if (v[k] !== undefined) throw new CliError(`--${k} is a grpo/agent option; ppo uses --clip-epsilon and --kl-coef`);
    },
    rewards: true,
    checkData: (prompts, _evalPrompts, rewards) => {
      const missing = rewards.includes(gtRewardFn) ? prompts.find((p) => !p.gt) : undefined;
      if (missing) throw new Error(`${missing.source}: --reward gt needs a "gt" field on every prompt`);
    },
    run: ({ v, common, initFrom, prompts, evalPrompts, rewards, out }) => {
      const { loss: _l, numGenerations: _n, beta: _b, epsilon: _e, epsilonHigh: _h, ...rest } = common;
      return ppo({
        ...rest, initFrom, prompts, rewards, out, maxSeqLen: intFlag(v, 'max-seq-len', 1),
        criticLearningRate: numFlag(v, 'critic-learning-rate'), clipEpsilon: numFlag(v, 'clip-epsilon'), vfCoef: numFlag(v, 'vf-coef'), klCoef: numFlag(v, 'kl-coef'),
        gamma: numFlag(v, 'gamma'), lam: numFlag(v, 'lam'), clipRangeValue: numFlag(v, 'cliprange-value'), ppoUpdateIters: intFlag(v, 'ppo-update-iters', 1),
        earlyStopKl: numFlag(v, 'early-stop-kl'), miniBatchSize: intFlag(v, 'mini-batch-size', 1),
        evaluate: evalPrompts ? gtAccuracyEvaluator(evalPrompts, { maxNewTokens: common.maxNewTokens ?? 128 }) : undefined,
      });
    },
  });
}
