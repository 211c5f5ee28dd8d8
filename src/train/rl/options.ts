// The options every RL stage (grpo, ppo, agent) shares: the loop's (LoopOptions: where it writes,
// the optimisation, logging and checkpoint schedule), where it starts, and how it samples
// rollouts; and the defaults the three MiniMind scripts share. Each stage adds its own.
import type { MiniMindForCausalLM } from '../../model/model.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';
import type { RlPrompt } from '../../data/rl.js';
import type { LoopOptions } from '../options.js';

export interface RlRunOptions extends LoopOptions {
  /** The model folder to start from (policy and frozen reference). */
  initFrom: string;
  prompts: RlPrompt[];
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Probability of rendering a prompt with an open <think> (MiniMind GRPO: 0.9). */
  thinkingRatio?: number;
  /** Tokens sampled per completion (per turn for agent). */
  maxNewTokens?: number;
  /** Held-out measurement of the policy, logged as eval_* (e.g. accuracy), every evalInterval steps [10], at the start and the end. */
  evaluate?: (policy: MiniMindForCausalLM, tokenizer: Tokenizer) => Promise<Record<string, number>> | Record<string, number>;
}

/** What train_grpo.py, train_ppo.py and train_agent.py share (sampling, batch, schedule); each stage's *_DEFAULTS adds its own. */
export const RL_DEFAULTS = {
  temperature: 0.8,
  topP: 0.85,
  topK: 50,
  batchSize: 2,
  epochs: 1,
  learningRate: 3e-7,
  weightDecay: 0.01,
  gradClip: 1.0,
  logInterval: 1,
  saveInterval: 10,
  evalInterval: 10,
  seed: 42,
};

/**
 * Upper limits of the RL stages' loop counts. A step holds every sample and every update it makes
 * until it ends (the loop records each update's gradient norms; the Ctrl-C check waits for the
 * step), so a count of 10^9 once grew memory for minutes instead of failing. MiniMind uses 6 and 4
 * generations, 2 PPO epochs and 3 agent turns; the limits leave ample room above that.
 */
export const RL_LIMITS = { numGenerations: 1024, ppoUpdateIters: 1000, maxTurns: 100 };

/** The settings every RL stage has a value for once resolved. */
export type RlSettings = typeof RL_DEFAULTS & { thinkingRatio: number; maxNewTokens: number };
