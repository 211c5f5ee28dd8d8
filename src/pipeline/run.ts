// Runs a pipeline: each stage is one `minimind` command in a child process, given its own output
// under the pipeline folder and earlier stages' outputs as inputs. A stage that finishes gets a
// marker (<out>/.pipeline/<stage>.done.json, written atomically) holding its command; a later
// run skips every stage whose marker matches its command, so after any kill the pipeline goes on
// where it stopped: an interrupted training stage continues from its last checkpoint (--resume) when
// its command is the one it was started with (else it starts over),
// an interrupted data stage starts again (its output is written under a temporary name and
// renamed, so a half file never looks finished). A stage whose command changed runs again, and
// so does every stage after it. A finished stage whose input files are gone keeps its recorded
// command: the data stages can run on one machine and the training stages on another.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../core/errors.js';
import { latestCheckpointDir, writeFileAtomic } from '../train/atomic.js';
import { expandGlob, PipelineSpec } from './spec.js';
import { stageOutputs, StageOutputs } from './stages.js';
import { StageRecord, writePipelineReport } from './report.js';

export interface RunPipelineOptions {
  /** Print lines as stages print them (default: stdout). */
  print?: (line: string) => void;
  /** Only resolve and print the commands. */
  dryRun?: boolean;
  /** Aborting it stops the running stage (SIGTERM to its process): the CLI aborts on SIGTERM. */
  signal?: AbortSignal;
}

/** A stage was stopped by Ctrl-C (it exited 130 with its checkpoint): the CLI exits 130 too, as the stages do. */
export class PipelineInterrupted extends UserError {}

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const REF = /\$\{([A-Za-z0-9_-]+)(?:\.([a-z]+))?\}/g;

interface Planned {
  name: string;
  run: string;
  argv: string[];
  outputs: StageOutputs;
}

export interface PlanOptions {
  /** --dry-run: inputs that are not there yet are shown as their pattern. */
  lenient?: boolean;
  /** A finished stage's recorded command (its marker's): used when its input files are gone, so a
   *  run folder whose data stages ran on another machine (the corpus not copied) goes on there. */
  recorded?: (name: string) => string[] | null;
}

/** Every stage's full command line, with references resolved and outputs assigned. */
export function planPipeline(spec: PipelineSpec, o: PlanOptions = {}): Planned[] {
  const done = new Map<string, StageOutputs>();
  return spec.stages.map((st) => {
    const resolveRefs = (v: string) =>
      v.replace(REF, (_, name: string, key: string | undefined) => {
        const o = done.get(name);
        if (!o) throw new UserError(`stage ${st.name}: \${${name}${key ? '.' + key : ''}} is not an earlier stage`);
        const path = o.refs[key ?? ''];
        if (path === undefined) throw new UserError(`stage ${st.name}: \${${name}.${key}}: stage ${name} has no output '${key}' (${Object.keys(o.refs).filter(Boolean).join(', ')})`);
        return path;
      });
    const outputs = stageOutputs(st.run, spec.out, st.name);
    const argv = [...st.run.split(' ')];
    for (const input of st.inputs ?? []) {
      const pattern = resolveRefs(input);
      try {
        argv.push(...expandGlob(pattern));
      } catch (e) {
        const earlier = o.recorded?.(st.name);
        if (earlier && earlier.join(' ').startsWith(st.run + ' ')) {
          done.set(st.name, outputs);
          return { name: st.name, run: st.run, argv: earlier, outputs };
        }
        if (!o.lenient) throw new UserError(`stage ${st.name}: ${(e as Error).message} (no stage was run)`);
        argv.push(pattern); // --dry-run: show the pattern of inputs that are not there yet
      }
    }
    const given = new Set<string>();
    for (const [k, v] of Object.entries(st.args ?? {})) {
      given.add(`--${k}`);
      if (v === false) continue;
      if (v === true) argv.push(`--${k}`);
      else for (const x of Array.isArray(v) ? v : [v]) argv.push(`--${k}`, resolveRefs(String(x)));
    }
    for (const [flag, path] of outputs.flags) if (!given.has(flag)) argv.push(flag, path);
    done.set(st.name, outputs);
    return { name: st.name, run: st.run, argv, outputs };
  });
}

function markerPath(out: string, name: string): string {
  return join(out, '.pipeline', `${name}.done.json`);
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

function readMarker(out: string, name: string): { argv: string[]; seconds: number; summary: string } | null {
  return readJson(markerPath(out, name));
}

/** Runs one stage's command, printing and logging its output; resolves with its exit code and last lines. */
function runChild(argv: string[], logPath: string, print: (line: string) => void, prefix: string, signal?: AbortSignal): Promise<{ code: number | null; tail: string[] }> {
  return new Promise((resolvePromise, reject) => {
    const log = createWriteStream(logPath, { flags: 'a' });
    const child = spawn(process.execPath, [CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const tail: string[] = [];
    let pending = '';
    const onData = (b: Buffer) => {
      log.write(b);
      const lines = (pending + b.toString('utf8')).split(/\r?\n|\r/);
      pending = lines.pop()!;
      for (const l of lines) {
        print(`${prefix}${l}`);
        tail.push(l);
        if (tail.length > 40) tail.shift();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // The caller's abort (the CLI's SIGTERM) is passed on to the stage, which quits at once with
    // exit code 143 (src/cli/stage.ts), its last complete checkpoint kept for a rerun to resume.
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort);
    child.on('error', reject);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (pending) {
        print(`${prefix}${pending}`);
        tail.push(pending);
      }
      log.end(() => resolvePromise({ code, tail }));
    });
  });
}

function exists(path: string): boolean {
  return existsSync(path) && (!existsSyncDir(path) || readdirSync(path).length > 0);
}
function existsSyncDir(path: string): boolean {
  try {
    return readdirSync(path) !== null;
  } catch {
    return false;
  }
}

/**
 * Refuses a stage whose command line its command would refuse (an unknown or malformed flag)
 * before any stage runs, so a typo in the last stage does not surface after hours of training:
 * each command parses its flags in full before it looks at --help, and --help reads no input.
 */
function checkStageFlags(plan: Planned[]): void {
  for (const p of plan) {
    const r = spawnSync(process.execPath, [CLI, ...p.argv, '--help'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status === 0) continue;
    const line = r.stderr.split('\n').find((l) => l.startsWith('minimind: ')) ?? `exit code ${r.status}`;
    throw new UserError(`stage ${p.name}: ${line.replace(/^minimind: /, '')}; fix its args in the pipeline file (no stage was run)`);
  }
}

/** Flags whose values are paths a stage may name itself (not an earlier stage's "${output}"). */
const PATH_FLAGS = new Set(['data', 'eval-data', 'tokenizer', 'init-from', 'model', 'teacher', 'reward-model']);

/**
 * Refuses, before any stage runs, a stage that will run and names an input that is not there (a
 * dataset not downloaded yet): with MiniMind's recipe a missing dpo.jsonl would otherwise surface
 * after pretraining and SFT. Stages that are finished and will not run again are not checked (their
 * inputs may stay on another machine); glob inputs are checked by planPipeline.
 */
function checkStageInputs(spec: PipelineSpec, plan: Planned[], out: string): void {
  const first = plan.findIndex((p) => JSON.stringify(readMarker(out, p.name)?.argv) !== JSON.stringify(p.argv));
  if (first === -1) return;
  for (const st of spec.stages.slice(first)) {
    const named: [what: string, path: string][] = (st.inputs ?? []).map((p) => ['input', p]);
    for (const [k, v] of Object.entries(st.args ?? {})) {
      if (!PATH_FLAGS.has(k) || typeof v !== 'string') continue;
      for (const p of v.split(',')) named.push([`--${k}`, p]);
    }
    for (const [what, path] of named) {
      if (path === '' || path.includes('${') || path.includes('*')) continue;
      if (!existsSync(path)) throw new UserError(`stage ${st.name}: ${what} ${path} not found; put it there or fix the pipeline file (no stage was run)`);
    }
  }
}

export async function runPipeline(spec: PipelineSpec, o: RunPipelineOptions = {}): Promise<StageRecord[]> {
  const print = o.print ?? ((l: string) => console.log(l));
  const out = resolve(spec.out);
  const plan = planPipeline(spec, { lenient: o.dryRun, recorded: (name) => readMarker(out, name)?.argv ?? null });
  checkStageFlags(plan);
  if (!o.dryRun) checkStageInputs(spec, plan, out);
  const records: StageRecord[] = plan.map((p) => ({ name: p.name, run: p.run, argv: p.argv, status: 'not run', seconds: null, outputs: Object.fromEntries(p.outputs.flags.map(([f, path]) => [f, path])), trainingRun: p.outputs.trainingRun, summary: '' }));
  if (o.dryRun) {
    for (const p of plan) print(`${p.name}: minimind ${p.argv.join(' ')}`);
    return records;
  }
  mkdirSync(join(out, '.pipeline'), { recursive: true });
  let dirty = false; // a stage ran: every later stage runs too (its inputs changed)
  for (let k = 0; k < plan.length; k++) {
    const p = plan[k];
    const rec = records[k];
    const marker = readMarker(out, p.name);
    if (!dirty && marker && JSON.stringify(marker.argv) === JSON.stringify(p.argv)) {
      Object.assign(rec, { status: 'done earlier', seconds: marker.seconds, summary: marker.summary });
      print(`[${p.name}] done earlier (${marker.seconds.toFixed(1)} s); not run again`);
      continue;
    }
    const argv = [...p.argv];
    const run = p.outputs.trainingRun;
    // a training stage interrupted with this very command continues; one whose command changed starts over
    const started = readJson<{ argv: string[] }>(join(out, '.pipeline', `${p.name}.started.json`));
    const sameAttempt = started !== null && JSON.stringify(started.argv) === JSON.stringify(p.argv);
    if (run && !marker && sameAttempt && latestCheckpointDir(join(run, 'checkpoints'))) {
      argv.push('--resume');
      print(`[${p.name}] continuing from its last checkpoint`);
    } else if ((run && exists(run)) || (p.outputs.overwrite && p.outputs.flags.some(([, path]) => exists(path)))) argv.push('--overwrite');
    writeFileAtomic(join(out, '.pipeline', `${p.name}.started.json`), JSON.stringify({ argv: p.argv, started: new Date().toISOString() }) + '\n');
    print(`[${p.name}] minimind ${argv.join(' ')}`);
    const t0 = Date.now();
    const { code, tail } = await runChild(argv, join(out, '.pipeline', `${p.name}.log`), print, `[${p.name}] `, o.signal);
    const seconds = (Date.now() - t0) / 1000;
    const summary = tail.filter((l) => !/ \d+%\|?.*\[\d/.test(l)).slice(-15).join('\n');
    dirty = true;
    if (code !== 0) {
      Object.assign(rec, { status: 'failed', seconds, summary, exitCode: code });
      writePipelineReport(out, spec.name, records);
      const message = `stage ${p.name} (minimind ${p.run}) ${code === 130 ? 'was interrupted' : `failed with exit code ${code}`}; its output is in ${join(out, '.pipeline', `${p.name}.log`)}. Run the pipeline again to go on: finished stages are not rerun`;
      throw code === 130 ? new PipelineInterrupted(message) : new UserError(message);
    }
    writeFileAtomic(markerPath(out, p.name), JSON.stringify({ argv: p.argv, seconds, summary, finished: new Date().toISOString() }, null, 2) + '\n');
    Object.assign(rec, { status: 'ran', seconds, summary });
    writePipelineReport(out, spec.name, records);
  }
  writePipelineReport(out, spec.name, records);
  return records;
}
