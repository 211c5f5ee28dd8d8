// GRPO / CISPO on the quickstart's chat model (runs/quickstart/sft/model): does reinforcement
// learning with a ground-truth reward raise its accuracy on held-out questions (sums, capitals)?
//
//   npx minimind quickstart && node tools/rl-quickstart.mjs [--loss cispo|grpo] [--steps N] [--out DIR]
//
// Split, so that the reported figure is honest: the quickstart holds out 25% of its facts (never
// asked in SFT). The evaluation set is held-out facts that RL never sees either:
//   --rl-prompts seen       (default) RL prompts = the questions SFT asked; evaluation = every
//                           held-out question (all phrasings of every held-out fact)
//   --rl-prompts seen+half  half of the held-out facts (all their phrasings) join the RL prompts;
//                           evaluation = the other half
// A sum and its commuted twin count as one fact, so they land on the same side of the split. The
// reward is the quickstart's own correctness check (both operands and the sum, nothing else) as a
// TypeScript reward function (--reward correct), or MiniMind's rule reward (--reward rules);
// accuracy is measured greedily, as the quickstart measures it (also logged: the policy's accuracy
// sampled at temperature 1, and the accuracy with the answer's operands given, i.e. what the model
// knows of the sums themselves). Nothing here is chosen by looking at the evaluation set: it is only
// scored. Every run, the dead ends too, is in docs/CHANGELOG.md (2026-11-29, issue 14).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { grpo } from '../dist/src/train/grpo.js';
import { generateQuickstartData, isCorrect } from '../dist/src/train/quickstart-data.js';
import { answer } from '../dist/src/train/quickstart.js';
import { ruleReward } from '../dist/src/train/rl/reward-fns.js';
import { generateBatch } from '../dist/src/model/batch-generate.js';

const { values } = parseArgs({
  options: {
    // defaults = the recipe of the session-3 runs (docs/CHANGELOG.md, 2026-11-29): 16 prompts x 8 samples per step,
    // the whole distribution at T 1.2 (more groups whose samples differ in reward), no KL, lr 1e-4
    loss: { type: 'string', default: 'cispo' }, steps: { type: 'string', default: '1000' }, out: { type: 'string' }, model: { type: 'string', default: 'runs/quickstart/sft/model' },
    lr: { type: 'string', default: '1e-4' }, seed: { type: 'string', default: '42' }, 'num-generations': { type: 'string', default: '8' }, 'batch-size': { type: 'string', default: '16' },
    beta: { type: 'string', default: '0' }, temperature: { type: 'string', default: '1.2' }, 'top-p': { type: 'string', default: '1' }, 'top-k': { type: 'string', default: '0' }, kinds: { type: 'string', default: 'sum' }, reward: { type: 'string', default: 'correct' },
    'rl-prompts': { type: 'string', default: 'seen' }, 'eval-interval': { type: 'string', default: '100' }, 'new-sums': { type: 'string', default: '0' }, rephrase: { type: 'boolean', default: false }, 'data-seed': { type: 'string', default: '42' },
  },
});
const out = values.out ?? `runs/rl-quickstart-${values.loss}`;
const kinds = values.kinds.split(',');
// the quickstart's data split: --data-seed must be the seed the quickstart ran with (its default, 42)
const data = generateQuickstartData(Number(values['data-seed']));
// data.heldOut lists each held-out fact's 4 questions (EN x2, ZH x2) together: fact = index / 4.
const factOf = (q, i) => (q.kind === 'sum' ? `sum:${q.question.match(/\d/g).slice(0, 2).sort().join('+')}` : `capital:${Math.floor(i / 4)}`);
const held = data.heldOut.map((q, i) => ({ ...q, fact: factOf(q, i) })).filter((q) => kinds.includes(q.kind));
const facts = [...new Set(held.map((q) => q.fact))];
if (values['rl-prompts'] !== 'seen' && values['rl-prompts'] !== 'seen+half') throw new Error('--rl-prompts must be seen or seen+half');
const rlFacts = new Set(values['rl-prompts'] === 'seen' ? [] : facts.filter((_, i) => i % 2 === 0));
const evalItems = held.filter((q) => !rlFacts.has(q.fact));
const rlHeld = held.filter((q) => rlFacts.has(q.fact));
const seenItems = data.seen.filter((q) => kinds.includes(q.kind));
// --new-sums N: N more sum questions (the quickstart's four phrasings) with an operand from 10 to 19,
// a sum the quickstart never states: the model cannot recall it, so a right answer there is the
// question's operands copied (and the sum, if it gets it). They add no held-out fact.
const newSums = [];
{
  let r = 12345;
  const rand = () => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < Number(values['new-sums']); i++) {
    const big = 10 + Math.floor(rand() * 10);
    const small = 1 + Math.floor(rand() * 9);
    const [a, b] = rand() < 0.5 ? [big, small] : [small, big];
    const s = String(a + b);
    const forms = [`What is ${a} plus ${b}?`, `What is ${a} + ${b}?`, `${a}加${b}等于多少？`, `请计算${a}加${b}。`];
    const f = i % 4;
    newSums.push({ kind: 'sum', lang: f < 2 ? 'en' : 'zh', question: forms[f], answer: '', expected: s, operands: [a, b] });
  }
}
// --rephrase: every SFT-seen sum (a fact of the training side only) also asked in 12 phrasings the
// quickstart never uses. The model answers those worse (it often answers with a capital, or recalls
// another trained pair instead of the question's operands), so their groups differ in reward, and
// what they reward is reading the operands from the question — the skill its held-out mistakes lack.
const REPHRASINGS = [
  (a, b) => `计算${a}加${b}。`, (a, b) => `${a}加${b}是多少？`, (a, b) => `请问${a}加${b}等于几？`, (a, b) => `请计算${a}加${b}的和。`, (a, b) => `${a}加上${b}等于多少？`, (a, b) => `请算一下${a}加${b}。`,
  (a, b) => `What's ${a} plus ${b}?`, (a, b) => `Add ${a} and ${b}.`, (a, b) => `${a} plus ${b} is?`, (a, b) => `What do you get if you add ${a} and ${b}?`, (a, b) => `Compute ${a} + ${b}.`, (a, b) => `How much is ${a} plus ${b}?`,
];
const rephrased = [];
if (values.rephrase) {
  const seenPairs = [...new Set(seenItems.filter((q) => q.kind === 'sum').map((q) => q.operands.join(',')))].map((p) => p.split(',').map(Number));
  for (const [a, b] of seenPairs) for (const f of REPHRASINGS) rephrased.push({ kind: 'sum', lang: /[a-z]/.test(f(0, 0)) ? 'en' : 'zh', question: f(a, b), answer: '', expected: String(a + b), operands: [a, b] });
}
const rlItems = [...seenItems, ...rlHeld, ...newSums, ...rephrased];
const prompts = rlItems.map((q, i) => ({ messages: [{ role: 'user', content: q.question }], source: `item ${i}`, item: q }));

const correctness = { name: 'correct', score: (samples) => samples.map((s) => (isCorrect(s.prompt.item, s.completion.trim()) ? 1 : 0)) };
// --reward graded: half for stating the question's operands (the first two numbers, either order),
// half for the whole answer being right (isCorrect)
const operandsRight = (item, text) => {
  const n = (text.match(/\d+/g) ?? []).map(Number);
  const [a, b] = item.operands;
  return n.length >= 2 && ((n[0] === a && n[1] === b) || (n[0] === b && n[1] === a));
};
const graded = { name: 'graded', score: (samples) => samples.map((s) => 0.5 * (operandsRight(s.prompt.item, s.completion) ? 1 : 0) + 0.5 * (isCorrect(s.prompt.item, s.completion.trim()) ? 1 : 0)) };
const REWARDS = { correct: correctness, graded, rules: ruleReward };
const accuracy = (model, tok, items) => {
  if (items.length === 0) return NaN;
  const answers = answer(model, tok, items.map((i) => i.question));
  return items.filter((it, k) => isCorrect(it, answers[k])).length / items.length;
};
const PHRASINGS = [['en_plus', /plus/], ['en_sign', /\+/], ['zh_ask', /等于多少/], ['zh_calc', /请计算/]];
// Held-out sums answered right when the answer's operands are given ("a plus b equals" /
// "a加b等于" forced, the rest greedy): what the model knows of the sums themselves. With
// perfect copying of the question's operands the greedy accuracy could reach this, not more,
// unless RL also changes which sum the model recalls.
const operandsGivenAccuracy = (model, tok, items) => {
  const sums = items.filter((q) => q.kind === 'sum');
  const prefix = (q) => (q.lang === 'en' ? `${q.operands[0]} plus ${q.operands[1]} equals` : `${q.operands[0]}加${q.operands[1]}等于`);
  const prompts = sums.map((q) => tok.encode(tok.applyChatTemplate([{ role: 'user', content: q.question }], { addGenerationPrompt: true }) + prefix(q)));
  const res = generateBatch(model, prompts, { maxNewTokens: 8, temperature: 0, stopTokenIds: [tok.eosTokenId] });
  return res.filter((r, k) => isCorrect(sums[k], prefix(sums[k]) + tok.decode(r.ids, { skipSpecialTokens: true }))).length / Math.max(sums.length, 1);
};
const sampledAccuracy = (model, tok, items, n) => {
  const prompts = items.map((q) => tok.encode(tok.applyChatTemplate([{ role: 'user', content: q.question }], { addGenerationPrompt: true })));
  const res = generateBatch(model, prompts, { maxNewTokens: 24, temperature: 1, seed: 1, numReturnSequences: n, stopTokenIds: [tok.eosTokenId] });
  return res.filter((r, k) => isCorrect(items[Math.floor(k / n)], tok.decode(r.ids, { skipSpecialTokens: true }).trim())).length / res.length;
};
mkdirSync(out, { recursive: true });
console.error(`RL prompts: ${prompts.length} (${seenItems.length} seen in SFT + ${rlHeld.length} questions of half of the held-out facts + ${newSums.length} new sums + ${rephrased.length} seen sums rephrased); evaluation: ${evalItems.length} questions of ${facts.length - rlFacts.size} held-out facts RL never sees`);
const summary = await grpo({
  initFrom: values.model, prompts, out, rewards: values.reward.split(',').map((r) => REWARDS[r] ?? (() => { throw new Error(`--reward: ${r}? (correct, graded, rules)`); })()), loss: values.loss,
  numGenerations: Number(values['num-generations']), batchSize: Number(values['batch-size']), epochs: 1000, maxSteps: Number(values.steps),
  maxNewTokens: 24, temperature: Number(values.temperature), topP: Number(values['top-p']), topK: Number(values['top-k']), thinkingRatio: 0, learningRate: Number(values.lr), beta: Number(values.beta), seed: Number(values.seed),
  logInterval: 5, saveInterval: 1000, evalInterval: Number(values['eval-interval']),
  evaluate: (model, tok) => {
    model.eval();
    const r = { heldout_acc: accuracy(model, tok, evalItems) };
    if (kinds.length > 1) for (const k of kinds) r[`heldout_${k}_acc`] = accuracy(model, tok, evalItems.filter((q) => q.kind === k));
    // per phrasing (EN "plus", EN "+", ZH "…等于多少？", ZH "请计算…。"): where the errors are
    for (const [name, re] of PHRASINGS) r[`heldout_${name}_acc`] = accuracy(model, tok, evalItems.filter((q) => re.test(q.question)));
    // the policy's own accuracy: 8 samples per held-out question at temperature 1 (what RL's expected reward measures)
    r.heldout_sampled_acc = sampledAccuracy(model, tok, evalItems, 8);
    r.heldout_operands_given_acc = operandsGivenAccuracy(model, tok, evalItems);
    r.seen_acc = accuracy(model, tok, seenItems);
    if (rlHeld.length) r.rl_heldout_acc = accuracy(model, tok, rlHeld);
    model.train();
    return r;
  },
});
const res = { loss: values.loss, rl_prompts_split: values['rl-prompts'], steps: summary.steps, seconds: summary.seconds, before: summary.firstEval, after: summary.lastEval, eval_questions: evalItems.length, kinds, rl_prompts: prompts.length, data_seed: values['data-seed'], settings: { reward: values.reward, new_sums: values['new-sums'], rephrase: values.rephrase, lr: values.lr, G: values['num-generations'], batch: values['batch-size'], temperature: values.temperature, top_p: values['top-p'], top_k: values['top-k'], beta: values.beta } };
writeFileSync(join(out, 'result.json'), JSON.stringify(res, null, 2) + '\n');
console.log(JSON.stringify(res));
