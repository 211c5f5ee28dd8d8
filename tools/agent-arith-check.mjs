// Where an arithmetic tool-use answer goes wrong: reads the transcripts that
// `minimind eval toolcall --data agent-eval.jsonl --out transcripts.jsonl` writes for the task of
// tools/agent-arith.mjs and counts, per held-out question,
//   correct   the ground truth in the final answer (what eval toolcall scores)
//   call      the first calculate_math call has the question's two numbers, in order
//   copy      the final answer holds the number the tool returned (right or not)
//   node tools/agent-arith-check.mjs transcripts.jsonl [--show N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { show: { type: 'string', default: '0' } } });
if (positionals.length !== 1) {
  console.error('usage: node tools/agent-arith-check.mjs transcripts.jsonl [--show N]');
  process.exit(2);
}
const rows = readFileSync(positionals[0], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
let correct = 0;
let call = 0;
let copy = 0;
for (const r of rows) {
  const user = r.messages.find((m) => m.role === 'user')?.content ?? '';
  const firstCall = r.messages.find((m) => m.role === 'assistant' && m.content.includes('<tool_call>'))?.content ?? '';
  const result = r.messages.find((m) => m.role === 'tool')?.content.match(/"result": "([^"]*)"/)?.[1];
  const expression = firstCall.match(/"expression": "([^"]*)"/)?.[1] ?? '';
  if (r.correct) correct++;
  if ((expression.match(/\d+/g) ?? []).join(',') === (user.match(/\d+/g) ?? []).join(',')) call++;
  if (result !== undefined && r.finalAnswer.includes(result)) copy++;
}
const pct = (n) => `${n}/${rows.length} (${((100 * n) / rows.length).toFixed(1)} %)`;
console.log(`correct ${pct(correct)}; call with the question's numbers ${pct(call)}; answer copies the tool's result ${pct(copy)}`);
for (const r of rows.slice(0, Number(values.show))) {
  console.log(`${r.correct ? 'right' : 'wrong'}: ${r.messages.filter((m) => m.role !== 'system').map((m) => `${m.role}: ${m.content.replace(/\s+/g, ' ')}`).join(' | ')} | final: ${r.finalAnswer}`);
}
