// The options every RL stage (grpo, ppo, agent) shares: where it starts and writes, how it samples
// rollouts, and the optimisation, logging and checkpoint schedule. Each stage adds its own.
import type { MiniMindForCausalLM } from '../../model/model.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';
import type { RlPrompt } from '../../data/rl.js';
import type { StepReport } from '../run-log.js';

export interface RlRunOptions {
  /** The model folder to start from (policy and frozen reference). */
  initFrom: string;
  /** Precision of the saved model/ weights: 'fp32' (default), 'bf16' or 'fp16'. */
  saveDtype?: 'fp32' | 'bf16' | 'fp16';
  prompts: RlPrompt[];
  out: string;
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Probability of rendering a prompt with an open <think> (MiniMind GRPO: 0.9). */
  thinkingRatio?: number;
  batchSize?: number;
  epochs?: number;
  maxSteps?: number;
  learningRate?: number;
  weightDecay?: number;
  gradClip?: number;
  logInterval?: number;
  saveInterval?: number;
  evalInterval?: number;
  /** Held-out measurement of the policy, logged as eval_* (e.g. accuracy). */
  evaluate?: (policy: MiniMindForCausalLM, tokenizer: Tokenizer) => Promise<Record<string, number>> | Record<string, number>;
  seed?: number;
  resume?: boolean;
  /** Replace an earlier run in `out` (kept aside until this run's first checkpoint). */
  overwrite?: boolean;
  stopAfterSteps?: number;
  /** Called after every step (the CLI draws its progress line from it). */
  onProgress?: (report: StepReport) => void;
  /** One-line messages (resuming, evaluations, stopping). Default: silent. */
  log?: (message: string) => void;
  /** Aborting stops after the current step with a checkpoint. */
  signal?: AbortSignal;
}
