// A small arithmetic tool task for `minimind agent` (the target: questions whose answer
// needs calculate_math). Writes, from a seeded generator, into --out (default runs/agent-arith/data):
//   tool-sft.jsonl    tool-use demonstrations in MiniMind's SFT tool format (system message with
//                     "tools", assistant "tool_calls", "tool" result, final answer)
//   agent-train.jsonl agent_rl prompts {"conversations", "gt"} for RL
//   agent-eval.jsonl  held-out agent_rl prompts (no question shared with the two files above)
// Questions multiply two two-digit numbers or add two three-digit numbers, in Chinese (--en F: a
// share in English): a 1M-parameter model cannot do that arithmetic itself, the answer needs the
// tool. In Chinese every number is the same tokens in the question, the call, the tool's result
// and the answer; in English the question's " 17" (with its space) is another token than the
// call's "17", a mapping more for a tiny model to learn.
// Every question is unique across the three files, so a demonstration can only be learnt by
// copying the question's numbers into the call and the tool's result into the answer, never by
// remembering a question (with a few hundred demonstrations repeated for epochs, a small model
// memorises them instead: it learnt the call format but copied no number).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../dist/src/data/rng.js';
import { calculateMath } from '../dist/src/tools/mock.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'runs/agent-arith/data' }, sft: { type: 'string', default: '3000' }, train: { type: 'string', default: '400' }, eval: { type: 'string', default: '60' }, seed: { type: 'string', default: '7' }, short: { type: 'string', default: '0' }, en: { type: 'string', default: '0' } } });
const rand = mulberry32(Number(values.seed));
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const tools = [calculateMath.schema];
const seen = new Set();
function question() {
  for (;;) {
    const kind = rand() < 0.6 ? 'mul' : 'add';
    const a = kind === 'mul' ? int(12, 99) : int(100, 999);
    const b = kind === 'mul' ? int(12, 99) : int(100, 999);
    const key = `${kind}${a},${b}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const zh = rand() < Number(values.en) ? false : true;
    const op = kind === 'mul' ? '*' : '+';
    const value = String(kind === 'mul' ? a * b : a + b);
    const q = kind === 'mul' ? (zh ? `计算${a}乘以${b}等于多少？` : `What is ${a} times ${b}?`) : zh ? `${a}加${b}等于多少？` : `What is ${a} plus ${b}?`;
    const answer = zh ? `结果是${value}。` : `The result is ${value}.`;
    return { q, expression: `${a}${op}${b}`, value, answer };
  }
}
const system = { role: 'system', content: '', tools: JSON.stringify(tools) };
// --short N: N more demonstrations without the system message (no tools block: ~70 tokens
// instead of ~600), a cheap way to practise copying numbers before the full-format ones
const sft = [];
for (let i = 0; i < Number(values.sft) + Number(values.short); i++) {
  const x = question();
  sft.push({ conversations: [...(i < Number(values.short) ? [] : [system]), { role: 'user', content: x.q }, { role: 'assistant', content: '', tool_calls: JSON.stringify([{ name: 'calculate_math', arguments: { expression: x.expression } }]) }, { role: 'tool', content: JSON.stringify({ result: x.value }).replace(':', ': ') }, { role: 'assistant', content: x.answer }] });
}
const prompts = (n) => Array.from({ length: n }, () => {
  const x = question();
  return { conversations: [system, { role: 'user', content: x.q }, { role: 'assistant', content: '' }], gt: [x.value] };
});
const train = prompts(Number(values.train));
const evalSet = prompts(Number(values.eval));
mkdirSync(values.out, { recursive: true });
const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
writeFileSync(join(values.out, 'tool-sft.jsonl'), jsonl(sft));
writeFileSync(join(values.out, 'agent-train.jsonl'), jsonl(train));
writeFileSync(join(values.out, 'agent-eval.jsonl'), jsonl(evalSet));
console.log(`wrote ${sft.length} demonstrations, ${train.length} RL prompts, ${evalSet.length} held-out prompts to ${values.out}`);
