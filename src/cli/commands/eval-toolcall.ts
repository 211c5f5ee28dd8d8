// `minimind eval toolcall`: flags -> evaluateToolCalls (src/train/rl/toolcall-eval.ts).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, numberFlag, parseFlags, requireFlag } from '../args.js';
import { refuseExisting, writeVia } from '../outputs.js';
import { refuseOverlap } from '../../core/paths.js';
import { readAgentRl, type RlPrompt } from '../../data/rl.js';
import { mockToolRegistry } from '../../tools/mock.js';
import { evaluateToolCalls, minimindToolcallPrompts } from '../../train/rl/toolcall-eval.js';

export const TOOLCALL_USAGE = `  minimind eval toolcall --model <folder> [--data agent_rl.jsonl] [--limit N] [--max-turns N] [--max-new-tokens N]
                         [--temperature T] [--seed N] [--out transcripts.jsonl [--overwrite]] [--json]

toolcall  tool use with MiniMind's mock tools: each prompt runs the tool loop (generate, run the
          <tool_call>s, feed the results back) until the model answers without a call
          --data        agent_rl jsonl ({"conversations" with the tools on the system message, "gt"}):
                        accuracy = final answers holding every gt item; without --data MiniMind's
                        eight eval_toolcall.py prompts run and their transcripts are printed
          --limit       only the first N prompts
          --max-turns   tool rounds at most (default 8)   --max-new-tokens  per turn (default 512)
          --temperature 0 = greedy (default)              --out  one JSON transcript per line
                                                          (an existing file is only replaced with --overwrite)`;

export async function runToolcall(argv: string[]): Promise<void> {
  const p = parseFlags(argv, { model: { type: 'string' }, data: { type: 'string' }, limit: { type: 'string' }, 'max-turns': { type: 'string' }, 'max-new-tokens': { type: 'string' }, temperature: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' } }, `Usage:\n${TOOLCALL_USAGE}`);
  if (!p) return;
  const v = p.values;
  const dir = requireFlag(v, 'model', TOOLCALL_USAGE);
  if (!existsSync(dir) || !existsSync(join(dir, 'tokenizer.json'))) throw new CliError(`${dir} is not a model folder with a tokenizer.json`);
  const int = (k: string, d: number) => {
    const n = numberFlag(v, k, d);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`--${k} must be a positive integer, got ${n}`);
    return n;
  };
  if (typeof v.out === 'string') {
    refuseOverlap(['--out', v.out], [['--data', typeof v.data === 'string' ? v.data : undefined], ['--model', dir]]);
    refuseExisting('--out', v.out, v.overwrite === true, 'file', 'results.jsonl');
  }
  const registry = mockToolRegistry();
  let prompts: RlPrompt[];
  try {
    prompts = typeof v.data === 'string' ? await readAgentRl([v.data]) : minimindToolcallPrompts(registry);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (v.limit !== undefined) prompts = prompts.slice(0, int('limit', 1));
  const { loadInferenceFolder } = await import('../../formats/inference-folder.js');
  const { model, tokenizer: tok } = loadInferenceFolder(dir);
  model.eval();
  const s = await evaluateToolCalls(model, tok, registry, prompts, { maxTurns: int('max-turns', 8), maxNewTokens: int('max-new-tokens', 512), temperature: numberFlag(v, 'temperature', 0), seed: numberFlag(v, 'seed', 0) });
  if (typeof v.out === 'string') writeVia(v.out, (tmp) => writeFileSync(tmp, s.results.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const summary = { prompts: s.prompts, accuracy: s.accuracy, tool_use: s.toolUse, valid_call_rate: s.validCallRate, unfinished: s.unfinished };
  if (v.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  if (typeof v.data !== 'string') {
    for (const r of s.results) {
      for (const m of r.messages) console.log(`${m.role}: ${m.content}`);
      console.log('');
    }
  }
  console.log(`${s.prompts} prompts: ${s.accuracy === null ? '' : `final answer correct ${(100 * s.accuracy).toFixed(1)}%, `}used a tool ${(100 * s.toolUse).toFixed(1)}%, valid calls ${(100 * s.validCallRate).toFixed(1)}%, turn limit hit ${(100 * s.unfinished).toFixed(1)}%`);
}
