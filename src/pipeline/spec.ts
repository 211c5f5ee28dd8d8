// A pipeline file: the whole run — data steps, tokenizer, pretraining, SFT, LoRA / DPO / RL,
// evaluation, export — as one list of `minimind` commands, each reading earlier stages' outputs.
//
//   name: demo
//   out: runs/demo                  # every stage writes under here (default runs/<name>)
//   stages:
//     - name: clean                 # the stage's output: runs/demo/clean.jsonl
//       run: data clean             # any minimind command
//       inputs: [raw/*.jsonl]       # positional inputs (a * in the file name is expanded)
//       args: { min-chars: 20 }     # flags: true -> --flag, a list -> the flag repeated
//     - name: pretrain
//       run: pretrain
//       args: { data: "${clean}", tokenizer: "${tok}", preset: tiny }
//
// "${stage}" is that stage's output (for a training stage, its model folder); "${stage.run}",
// "${stage.adapter}", "${stage.train}", "${stage.val}" name the other outputs. The output flag
// (--output / --out / --html) is added by the runner. JSON or YAML.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { UserError } from '../core/errors.js';

export type ArgValue = string | number | boolean | (string | number)[];

export interface StageSpec {
  name: string;
  run: string;
  inputs?: string[];
  args?: Record<string, ArgValue>;
}

export interface PipelineSpec {
  name: string;
  out: string;
  stages: StageSpec[];
}

/** Parses and checks a pipeline file (JSON, or YAML by its extension). */
export async function loadPipeline(path: string): Promise<PipelineSpec> {
  if (!existsSync(path)) throw new UserError(`pipeline file not found: ${path}`);
  if (!statSync(path).isFile()) throw new UserError(`${path} is not a file; give a pipeline file (.yaml, .yml or .json)`);
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  try {
    raw = yaml ? (await import('js-yaml')).load(text) : JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid ${yaml ? 'YAML' : 'JSON'} (${(e as Error).message.split('\n')[0]})`);
  }
  return checkPipeline(raw, path);
}

export function checkPipeline(raw: unknown, where: string): PipelineSpec {
  const bad = (what: string): never => {
    throw new UserError(`${where}: ${what}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad('expected an object with "stages"');
  const o = raw as Record<string, unknown>;
  const name = typeof o.name === 'string' && o.name !== '' ? o.name : basename(where, extname(where));
  const out = o.out === undefined ? join('runs', name) : typeof o.out === 'string' && o.out !== '' ? o.out : bad('"out" must be a folder path');
  if (!Array.isArray(o.stages) || o.stages.length === 0) bad('"stages" must be a non-empty list');
  const seen = new Set<string>();
  const stages = (o.stages as unknown[]).map((s, i) => {
    const at = `stage ${i + 1}`;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) bad(`${at}: expected an object with "name" and "run"`);
    const st = s as Record<string, unknown>;
    if (typeof st.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(st.name)) bad(`${at}: "name" must be letters, digits, - or _`);
    const sname = st.name as string;
    if (seen.has(sname)) bad(`${at}: a second stage named "${sname}"`);
    seen.add(sname);
    if (typeof st.run !== 'string' || st.run.trim() === '') bad(`stage ${sname}: "run" must be a minimind command, e.g. "data clean" or "pretrain"`);
    if (st.inputs !== undefined && (!Array.isArray(st.inputs) || !st.inputs.every((x) => typeof x === 'string'))) bad(`stage ${sname}: "inputs" must be a list of paths`);
    if (st.args !== undefined && (st.args === null || typeof st.args !== 'object' || Array.isArray(st.args))) bad(`stage ${sname}: "args" must be an object of flags`);
    for (const [k, v] of Object.entries((st.args ?? {}) as object)) {
      const ok = ['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'));
      if (!ok) bad(`stage ${sname}: args.${k} must be a string, number, true/false or a list`);
    }
    const extra = Object.keys(st).filter((k) => !['name', 'run', 'inputs', 'args'].includes(k));
    if (extra.length) bad(`stage ${sname}: unknown field(s) ${extra.join(', ')} (name, run, inputs, args)`);
    return { name: sname, run: (st.run as string).trim().replace(/\s+/g, ' '), inputs: st.inputs as string[] | undefined, args: st.args as Record<string, ArgValue> | undefined };
  });
  return { name, out, stages };
}

/** Expands a * in the last path segment (sorted), e.g. node_modules/chinese-poetry/dist/quantangshi/poet.*.json. */
export function expandGlob(pattern: string): string[] {
  const base = basename(pattern);
  if (!base.includes('*')) return [pattern];
  const dir = dirname(pattern);
  if (!existsSync(dir)) throw new UserError(`no files match ${pattern}: folder ${dir} not found`);
  const re = new RegExp('^' + base.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  const files = readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f));
  if (files.length === 0) throw new UserError(`no files match ${pattern}`);
  return files;
}
