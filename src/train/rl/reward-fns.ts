// Pluggable rewards. A reward function scores a batch of samples (so a reward model or a remote
// scorer can batch); the stage sums every function's score per sample and logs each as
// reward_<name>. Built in:
//   rules        MiniMind's rule reward (length, think-block rules, repetition penalty)
//   gt           the share of the prompt's ground-truth items found in the answer (substring or
//                number within 1e-6, as MiniMind's agent task checks them)
//   command      an external program: one JSON line per sample on stdin
//                ({"messages", "completion", "gt"}), one number per line on stdout
//   http         POST {"samples": [...]} to a URL, which answers {"rewards": [numbers]}
// From the library, any TypeScript function with this shape works.
import { spawn } from 'node:child_process';
import type { FinishReason } from '../../model/batch-generate.js';
import type { RlPrompt } from '../../data/rl.js';
import { gtReward, thinkRuleReward } from './rewards.js';
import { UserError } from '../../core/errors.js';

export interface RewardSample {
  prompt: RlPrompt;
  /** The generated text (special tokens dropped, as MiniMind decodes it). */
  completion: string;
  completionIds: number[];
  finishReason: FinishReason;
}

export interface RewardFunction {
  name: string;
  score(samples: RewardSample[]): Promise<number[]> | number[];
}

export const ruleReward: RewardFunction = {
  name: 'rules',
  score: (samples) => samples.map((s) => thinkRuleReward(s.completion).total),
};

/** The final answer: the text after the first </think> when there is one. */
export function answerText(completion: string): string {
  const cut = completion.indexOf('</think>');
  return cut === -1 ? completion : completion.slice(cut + '</think>'.length);
}

export const gtRewardFn: RewardFunction = {
  name: 'gt',
  score: (samples) =>
    samples.map((s) => {
      if (!s.prompt.gt) throw new UserError(`${s.prompt.source}: the gt reward needs a "gt" field on every prompt`);
      return gtReward(answerText(s.completion), s.prompt.gt);
    }),
};

function payload(s: RewardSample): Record<string, unknown> {
  return { messages: s.prompt.messages, completion: s.completion, ...(s.prompt.gt ? { gt: s.prompt.gt } : {}) };
}

function checkScores(values: unknown, n: number, from: string): number[] {
  if (!Array.isArray(values) || values.length !== n || values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new UserError(`${from} must give ${n} finite numbers (one per sample), got ${JSON.stringify(values).slice(0, 200)}`);
  }
  return values as number[];
}

/** Runs `command` (through the shell) once per batch. */
export function commandReward(command: string): RewardFunction {
  return {
    name: 'command',
    score: (samples) =>
      new Promise((resolve, reject) => {
        const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('error', (e) => reject(new Error(`reward command '${command}': ${e.message}`)));
        child.on('close', (code) => {
          if (code !== 0) return reject(new Error(`reward command '${command}' exited with code ${code}`));
          try {
            resolve(checkScores(out.split('\n').filter((l) => l.trim() !== '').map(Number), samples.length, `reward command '${command}'`));
          } catch (e) {
            reject(e);
          }
        });
        child.stdin.on('error', () => {}); // a command that exits early is reported by 'close'
        child.stdin.end(samples.map((s) => JSON.stringify(payload(s))).join('\n') + '\n');
      }),
  };
}

/** POSTs each batch to `url`. */
export function httpReward(url: string): RewardFunction {
  return {
    name: 'http',
    score: async (samples) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ samples: samples.map(payload) }) });
      if (!res.ok) throw new Error(`reward endpoint ${url} answered ${res.status} ${res.statusText}`);
      const body = (await res.json()) as { rewards?: unknown };
      return checkScores(body.rewards, samples.length, `reward endpoint ${url}`);
    },
  };
}

/** Scores every sample with every function: the per-sample total and each function's scores. */
export async function scoreCompletions(fns: RewardFunction[], samples: RewardSample[]): Promise<{ total: Float64Array; parts: Record<string, number[]> }> {
  const total = new Float64Array(samples.length);
  const parts: Record<string, number[]> = {};
  for (const f of fns) {
    const s = checkScores(await f.score(samples), samples.length, `reward '${f.name}'`);
    parts[f.name] = s;
    s.forEach((v, i) => (total[i] += v));
  }
  return { total, parts };
}
