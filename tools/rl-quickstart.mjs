// GRPO / CISPO on the quickstart's chat model (runs/quickstart/sft/model): does reinforcement
// learning with a ground-truth reward raise its accuracy on held-out questions (sums, capitals)?
//
//   npx minimind quickstart && node tools/rl-quickstart.mjs [--loss cispo|grpo] [--steps N] [--out DIR]
//
// Split, so that the reported figure is honest: the quickstart holds out 25% of its facts (never
// asked in SFT). Half of those facts (all their phrasings) join the SFT questions as RL prompts;
// the other half is the evaluation set, never seen as a question in SFT *or* RL. The reward is the
// quickstart's own correctness check (the answer's last number is the sum) as a TypeScript reward
// function (--reward correct), or MiniMind's rule reward (--reward rules: length 20-800 characters,
// think rules, repetition penalty); accuracy is measured greedily, as the quickstart measures it.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { grpo } from '../dist/src/train/grpo.js';
import { generateQuickstartData, isCorrect } from '../dist/src/train/quickstart-data.js';
import { answer } from '../dist/src/train/quickstart.js';
import { ruleReward } from '../dist/src/train/rl/reward-fns.js';

const { values } = parseArgs({ options: { loss: { type: 'string', default: 'cispo' }, steps: { type: 'string', default: '120' }, out: { type: 'string' }, model: { type: 'string', default: 'runs/quickstart/sft/model' }, lr: { type: 'string', default: '1e-4' }, seed: { type: 'string', default: '42' }, 'num-generations': { type: 'string', default: '6' }, 'batch-size': { type: 'string', default: '4' }, beta: { type: 'string', default: '0.1' }, kinds: { type: 'string', default: 'sum,capital' }, reward: { type: 'string', default: 'correct' } } });
const out = values.out ?? `runs/rl-quickstart-${values.loss}`;
const kinds = values.kinds.split(',');
const data = generateQuickstartData(42); // the quickstart's default seed
// data.heldOut lists each held-out fact's 4 questions (EN x2, ZH x2) together: fact = index / 4. A sum
// and its commuted twin (3 + 5, 5 + 3) count as one fact, so they land on the same side of the split.
const factOf = (q, i) => (q.kind === 'sum' ? `sum:${q.question.match(/\d/g).slice(0, 2).sort().join('+')}` : `capital:${Math.floor(i / 4)}`);
const held = data.heldOut.map((q, i) => ({ ...q, fact: factOf(q, i) })).filter((q) => kinds.includes(q.kind));
const facts = [...new Set(held.map((q) => q.fact))];
const rlFacts = new Set(facts.filter((_, i) => i % 2 === 0));
const evalItems = held.filter((q) => !rlFacts.has(q.fact));
const rlHeld = held.filter((q) => rlFacts.has(q.fact));
const rlItems = [...data.seen.filter((q) => kinds.includes(q.kind)), ...rlHeld];
const prompts = rlItems.map((q, i) => ({ messages: [{ role: 'user', content: q.question }], source: `item ${i}`, item: q }));

const correctness = { name: 'correct', score: (samples) => samples.map((s) => (isCorrect(s.prompt.item, s.completion.trim()) ? 1 : 0)) };
const accuracy = (model, tok, items) => {
  if (items.length === 0) return NaN;
  const answers = answer(model, tok, items.map((i) => i.question));
  return items.filter((it, k) => isCorrect(it, answers[k])).length / items.length;
};
mkdirSync(out, { recursive: true });
console.error(`RL prompts: ${prompts.length} (${rlItems.length - rlHeld.length} seen in SFT + ${rlHeld.length} questions of half of the held-out facts); evaluation: ${evalItems.length} questions of the other ${facts.length - rlFacts.size} held-out facts`);
const summary = await grpo({
  initFrom: values.model, prompts, out, rewards: values.reward.split(',').map((r) => (r === 'rules' ? ruleReward : correctness)), loss: values.loss,
  numGenerations: Number(values['num-generations']), batchSize: Number(values['batch-size']), epochs: 100, maxSteps: Number(values.steps),
  maxNewTokens: 24, temperature: 0.8, thinkingRatio: 0, learningRate: Number(values.lr), beta: Number(values.beta), seed: Number(values.seed),
  logInterval: 5, saveInterval: 1000, evalInterval: 10,
  evaluate: (model, tok) => {
    model.eval();
    const r = { heldout_acc: accuracy(model, tok, evalItems) };
    for (const k of kinds) r[`heldout_${k}_acc`] = accuracy(model, tok, evalItems.filter((q) => q.kind === k));
    r.rl_heldout_acc = accuracy(model, tok, rlHeld);
    model.train();
    return r;
  },
});
const res = { loss: values.loss, steps: summary.steps, seconds: summary.seconds, before: summary.firstEval, after: summary.lastEval, eval_questions: evalItems.length, kinds, rl_prompts: prompts.length };
writeFileSync(join(out, 'result.json'), JSON.stringify(res, null, 2) + '\n');
console.log(JSON.stringify(res));
