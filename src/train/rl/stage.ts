// What every RL stage (grpo, ppo, agent) sets up and measures the same way: its options over the
// stage's defaults; the tokenizer, the policy and the frozen reference from the starting folder;
// the loop settings and the Stage it runs in loop.ts (prompts per step in a seeded per-epoch
// order, the cosine schedule per optimizer update); the policy's hooks (parameters, saving,
// evaluation); prompt rendering; sampling + scoring one batch; and the per-step numbers read from
// the rollout (length, entropy).
import { scope } from '../../core/scope.js';
import type { Tensor } from '../../core/tensor.js';
import { refuseOverlap } from '../../core/paths.js';
import { UserError, asUserError } from '../../core/errors.js';
import * as ops from '../../ops/index.js';
import type { MiniMindForCausalLM } from '../../model/model.js';
import type { RlPrompt } from '../../data/rl.js';
import { Tokenizer } from '../../tokenizer/tokenizer.js';
import { checkSavable, readGenerationConfig, saveModelFolder } from '../../formats/hf-folder.js';
import { checkTokenizerForModel } from '../../formats/tokenizer-check.js';
import { loadFrozenModel, loadModel } from '../common.js';
import { intOption, numberOption, resolveLoop, saveDtypeOption } from '../options.js';
import { cosineLr } from '../../optim/index.js';
import type { DataParallel } from '../../dist/data-parallel.js';
import { BatchPlan } from '../../data/batches.js';
import { RL_LIMITS, type RlRunOptions, type RlSettings } from './options.js';
import { runStage, type LoopConfig, type LoopSummary, type ParamGroup, type Stage, type StepContext, type StepOutcome } from '../loop.js';
import { policyLogprobs, sampleGroups, scoreRows, type Completion, type PackedRows } from './rollout.js';
import { grpoLoss, type GrpoLossOptions } from './losses.js';
import { hostLoss } from './policy-loss.js';
import { scoreCompletions, type RewardFunction } from './reward-fns.js';

/**
 * The stage's options over its `defaults` (an option left undefined takes the default), checked:
 * the loop's by resolveLoop (the same checks and messages as every stage's), the sampling ones
 * here. A problem is a UserError naming the flag.
 */
export function resolveRl<D extends RlSettings, O extends RlRunOptions>(stage: string, defaults: D, options: O): { o: D & O; cfg: LoopConfig } {
  const cfg = resolveLoop(stage, options, defaults);
  numberOption(options, 'temperature', 1, 0, Infinity, 'min');
  numberOption(options, 'topP', 1, 0, 1, 'min');
  intOption(options, 'topK', 0);
  numberOption(options, 'thinkingRatio', 0, 0, 1);
  intOption(options, 'maxNewTokens', 1, 1);
  if (!Array.isArray(options.prompts) || options.prompts.length === 0) throw new UserError(`${stage}: no prompts to train on`);
  const o = { ...defaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as D & O;
  return { o, cfg: { ...cfg, evalInterval: o.evaluate ? cfg.evalInterval : 0 } };
}

/** The options grpo and agent share (group-relative advantages and the CISPO/GRPO loss), checked. */
export function checkGroupOptions(o: { loss: string; numGenerations: number; beta: number; epsilon: number; epsilonHigh: number }): void {
  if (o.loss !== 'cispo' && o.loss !== 'grpo') throw new UserError(`--loss must be cispo or grpo, got '${o.loss}'`);
  // advantages compare the samples of a group
  intOption(o, 'numGenerations', 2, 2, RL_LIMITS.numGenerations);
  for (const k of ['beta', 'epsilon', 'epsilonHigh'] as const) numberOption(o, k, 0, 0);
}

export interface RlModels {
  tokenizer: Tokenizer;
  /** The end-of-turn token rollouts stop at. */
  eos: number;
  pad: number;
  /** Trained, in train mode. */
  policy: MiniMindForCausalLM;
  /** The frozen starting model: shares nothing with the policy. */
  ref: MiniMindForCausalLM;
}

/** Checks the options every stage shares and loads the models; a problem is a UserError (one line). */
export function loadRlModels(stage: string, o: RlRunOptions): RlModels {
  refuseOverlap(['--out', o.out], [['--init-from', o.initFrom]]);
  // (a folder that cannot be loaded is the caller's input: one line, as in the supervised stages)
  const tokenizer = asUserError(() => Tokenizer.load(o.initFrom), `--init-from ${o.initFrom}: `);
  const eos = tokenizer.eosTokenId;
  if (eos === undefined) throw new UserError(`${stage}: ${o.initFrom}: the tokenizer has no eos_token (the end-of-turn token rollouts stop at)`);
  const policy = loadModel(o.initFrom).train();
  checkTokenizerForModel(tokenizer, o.initFrom, policy.config.vocab_size, o.initFrom);
  checkSavable(policy, saveDtypeOption(o.saveDtype)); // fp16 that cannot hold the weights: refused now, not at the final save
  return { tokenizer, eos, pad: tokenizer.padTokenId ?? 0, policy, ref: loadFrozenModel(o.initFrom) };
}

export type RlSummary = LoopSummary;

/** What an RL stage adds to rlStage's plan: its policy hooks, more parameter groups, and one step on a batch of prompts. */
export interface RlStageParts extends Pick<Stage, 'saveModel' | 'evaluate' | 'info' | 'updatesPerStep'> {
  /** The policy's trainable parameters. */
  params: [string, Tensor][];
  /** More parameters with their own AdamW and peak lr (PPO's critic). */
  extraGroups?: ParamGroup[];
  /** Rollout, loss, backward and ctx.update() (once, or once per PPO minibatch) for the prompts `indices`. */
  step(indices: Uint32Array, ctx: StepContext): Promise<StepOutcome> | StepOutcome;
}

/**
 * An RL stage for the loop: `batchSize` prompts per step in a seeded per-epoch order (a step's
 * prompts and sampling seed depend only on (seed, step), so --resume is exact), and MiniMind's
 * CosineAnnealingLR down to lr/10, stepped after every optimizer update over T_max = steps ×
 * updates per step.
 */
export function rlStage(o: { prompts: number; batchSize: number; seed: number; learningRate: number }, parts: RlStageParts): Stage {
  const plan = new BatchPlan(o.prompts, { batchSize: o.batchSize, seed: o.seed });
  const updatesPerStep = parts.updatesPerStep ?? 1;
  return {
    groups: [{ prefix: '', params: parts.params }, ...(parts.extraGroups ?? [])],
    stepsPerEpoch: plan.batchesPerEpoch,
    schedule: (totalSteps) => (u) => cosineLr(u - 1, { lr: o.learningRate, totalSteps: totalSteps * updatesPerStep, warmupSteps: 0, minRatio: 0.1 }),
    updatesPerStep,
    globalBatch: o.batchSize,
    resumeKey: { batchSize: o.batchSize, seed: o.seed, prompts: o.prompts },
    evalAtStart: true,
    info: { prompts: o.prompts, batch_size: o.batchSize, ...parts.info },
    saveModel: parts.saveModel,
    evaluate: parts.evaluate,
    step: (ctx) => parts.step(plan.batchIndices(ctx.epoch, ctx.inEpoch), ctx),
  };
}

/** Runs an RL stage in its run folder (loop.ts runStage). */
export async function runRl(cfg: LoopConfig, o: RlRunOptions & RlSettings, parts: RlStageParts): Promise<RlSummary> {
  const stage = cfg.stage;
  const summary = await runStage(cfg, async () => rlStage({ ...o, prompts: o.prompts.length }, parts));
  o.log?.(`${stage}: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s; model in ${summary.modelDir}`);
  return summary;
}

/** The loop hooks about the policy: what it trains, how it saves (with the starting tokenizer), how it is evaluated. */
export function policyHooks(o: RlRunOptions, m: RlModels): Pick<RlStageParts, 'params' | 'saveModel' | 'evaluate'> {
  return {
    params: m.policy.namedParameters().filter(([, t]) => t.requiresGrad),
    // The init model's generation_config (sampling, the context it was trained at) stays with the policy.
    saveModel: (dir) => saveModelFolder(dir, m.policy, { tokenizerDir: o.initFrom, dtype: saveDtypeOption(o.saveDtype), generation: readGenerationConfig(o.initFrom) }),
    evaluate: o.evaluate ? () => o.evaluate!(m.policy, m.tokenizer) : undefined,
  };
}

/**
 * A prompt's token ids: its messages (and tools) in the chat template, cut to the last maxSeqLen
 * tokens, and to the model's context less one (room for at least one sampled token).
 */
export function promptRenderer(m: Pick<RlModels, 'tokenizer' | 'policy'>, maxSeqLen: number) {
  const keep = Math.min(maxSeqLen, m.policy.config.max_position_embeddings - 1);
  return (p: RlPrompt, openThinking: boolean): number[] => {
    const ids = m.tokenizer.encode(m.tokenizer.applyChatTemplate(p.messages, { addGenerationPrompt: true, openThinking, ...(p.tools ? { tools: p.tools } : {}) }));
    return ids.length > keep ? ids.slice(ids.length - keep) : ids;
  };
}

/** Samples `numGenerations` completions of each prompt and scores them with every reward function. */
export async function sampleAndScore(
  m: RlModels,
  batch: RlPrompt[],
  promptIds: number[][],
  rewards: RewardFunction[],
  o: { numGenerations: number; maxNewTokens: number; temperature: number; topP: number; topK: number; seed: number; firstPrompt?: number },
): Promise<{ completions: Completion[]; total: Float64Array; parts: Record<string, number[]> }> {
  const completions = sampleGroups(m.policy, promptIds, { ...o, eosTokenId: m.eos });
  const texts = completions.map((c) => m.tokenizer.decode(c.ids, { skipSpecialTokens: true }));
  const scored = await scoreCompletions(rewards, completions.map((c, k) => ({ prompt: batch[c.prompt], completion: texts[k], completionIds: c.ids, finishReason: c.finishReason })));
  return { completions, ...scored };
}

/**
 * A data-parallel rank's slice [lo, hi) of a step's n prompts (contiguous, sizes differing by at
 * most one) and its share of them; the whole batch and 1 for a single process. A loss that is a
 * mean over the prompts' rows, times the share, summed over the ranks, is the one-process loss.
 */
export function rankSlice(n: number, dist?: DataParallel): { lo: number; hi: number; share: number } {
  if (!dist) return { lo: 0, hi: n, share: 1 };
  const lo = Math.floor((dist.rank * n) / dist.worldSize);
  const hi = Math.floor(((dist.rank + 1) * n) / dist.worldSize);
  return { lo, hi, share: (hi - lo) / n };
}

/** Trained tokens per row and their mean entropy (nats), from the rollout's masks. */
export function rolloutStats(entropy: ArrayLike<number>, mask: ArrayLike<number>, rows: number): { len: number; entropy: number } {
  let sum = 0;
  let trained = 0;
  for (let i = 0; i < mask.length; i++) {
    sum += entropy[i] * mask[i];
    trained += mask[i];
  }
  return { len: trained / Math.max(rows, 1), entropy: sum / Math.max(trained, 1) };
}

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / Math.max(a.length, 1);
}

/** Population standard deviation. */
export function std(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return Math.sqrt(s / Math.max(a.length, 1));
}

/** The share of groups (consecutive runs of `groupSize` rewards) whose rewards are not all equal: only those carry a policy gradient. */
export function groupsWithSignal(rewards: ArrayLike<number>, groupSize: number): number {
  let groups = 0;
  let varied = 0;
  for (let g = 0; g + groupSize <= rewards.length; g += groupSize, groups++) {
    for (let i = g + 1; i < g + groupSize; i++) {
      if (rewards[i] !== rewards[g]) {
        varied++;
        break;
      }
    }
  }
  return varied / Math.max(groups, 1);
}

/**
 * One GRPO/CISPO update on packed rollouts (grpo and agent): old log-probs from the policy and
 * reference log-probs from the frozen model, both without gradients; the policy's log-probs with
 * gradients; the loss (+ the MoE auxiliary loss) backpropagated, times `weight` (a data-parallel
 * rank's share of the batch). Returns the loss, its statistics and the rollout's length and entropy.
 */
export function groupPolicyUpdate(m: RlModels, packed: PackedRows, advantages: ArrayLike<number>, lossOptions: GrpoLossOptions, weight = 1): { loss: number; kl: number; clipFraction: number; len: number; entropy: number } {
  const old = scoreRows(m.policy, packed, true);
  const refScore = scoreRows(m.ref, packed);
  const r = scope(() => {
    const { logp, auxLoss } = policyLogprobs(m.policy, packed);
    const { loss, result } = hostLoss(logp, (v) => grpoLoss({ R: packed.R, T: packed.L, logp: v, oldLogp: old.logp, refLogp: refScore.logp, mask: packed.mask }, advantages, lossOptions));
    const total = auxLoss ? ops.add(loss, auxLoss) : loss;
    (weight !== 1 ? ops.scale(total, weight) : total).backward();
    return { loss: result.loss, kl: result.stats.kl, clipFraction: result.stats.clipFraction };
  });
  return { ...r, ...rolloutStats(old.entropy!, packed.mask, packed.R) };
}
