// `minimind eval ceval --method letter` over a whole benchmark split (default: CMMLU test, 11,582
// questions) with a v1-small model (random weights, seed 42, MiniMind v1's tokenizer), side by side
// with the reference in the same run: tools/eval_reference.py, MiniMind v1's eval_ceval.py loop on
// transformers (one question per forward pass, as v1 ran it), on the first --reference-questions
// questions. Reports wall time, CPU seconds, questions/s and peak RSS of ours, the reference's questions/s, and
// how many of the compared predictions agree (and the largest relative difference of the A-D logits).
//   node dist/bench/eval-cmmlu.js [--data ../shared/data/cmmlu] [--split test] [--batch-size 16]
//        [--reference-questions 300] [--python .venv/bin/python] [--subjects a,b]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { saveModelFolder } from '../src/formats/hf-folder.js';
import { MiniMindForCausalLM } from '../src/model/model.js';
import { presetConfig } from '../src/model/presets.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' }, split: { type: 'string' }, 'batch-size': { type: 'string' }, 'reference-questions': { type: 'string' },
    python: { type: 'string' }, subjects: { type: 'string' }, tokenizer: { type: 'string' },
  },
});
const data = values.data ?? '../shared/data/cmmlu';
const split = values.split ?? 'test';
const refN = Number(values['reference-questions'] ?? 300);
const python = values.python ?? '.venv/bin/python';
const root = mkdtempSync(join(tmpdir(), 'mm-bench-eval-'));
const folder = join(root, 'v1-small');
saveModelFolder(folder, new MiniMindForCausalLM(presetConfig('v1-small'), { seed: 42 }), { tokenizerDir: values.tokenizer ?? '../shared/data/minimind-tokenizer/v1' });
const load0 = loadavg()[0];

// The reference first, on the first refN questions in file order (the order of our --out lines).
let reference: Record<string, unknown> = { skipped: `${python} not found` };
let refLines: { file: string; index: number; logits: number[]; prediction: string }[] = [];
if (refN > 0 && spawnSync(python, ['-c', 'import transformers, pandas']).status === 0) {
  // With --subjects, the reference reads the first chosen subject's file (CMMLU or C-Eval naming).
  const first = values.subjects?.split(',')[0];
  const refData = first ? [join(data, split, `${first}.csv`), join(data, split, `${first}_${split}.csv`)].find((f) => existsSync(f)) ?? join(data, split) : join(data, split);
  const r = spawnSync(python, ['tools/eval_reference.py', folder, refData, '--limit', String(refN), '--timing'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`eval_reference.py failed: ${r.stderr.slice(-2000)}`);
  refLines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const timing = JSON.parse(r.stderr.trim().split('\n').pop()!);
  reference = { impl: 'tools/eval_reference.py (v1 eval_ceval.py loop, transformers fp32, 1 question/pass)', questions: timing.questions, scoring_s: round(timing.seconds), questions_per_second: round(timing.questions / timing.seconds) };
}

const out = join(root, 'ours.jsonl');
const args = ['dist/src/cli/main.js', 'eval', 'ceval', '--model', folder, '--data', data, '--split', split, '--method', 'letter', '--device', 'cpu', '--batch-size', values['batch-size'] ?? '16', '--out', out, '--json'];
if (values.subjects) args.push('--subjects', values.subjects);
const t0 = Date.now();
const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
const wall = (Date.now() - t0) / 1000;
if (r.status !== 0) throw new Error(`minimind eval failed: ${r.stderr.slice(-2000)}`);
const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
// CPU seconds tell what a quiet machine would take when the cores are shared with other work.
const [peakKb, userS, sysS] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
const ours = {
  questions: j.questions, wall_s: round(wall), scoring_s: round(j.seconds), questions_per_second: round(j.questions_per_second), accuracy: round(j.accuracy, 4),
  batch_size: Number(values['batch-size'] ?? 16), peak_rss_mb: Math.round(peakKb / 1024), cpu_s: round(userS + sysS),
};

// Agreement on the questions both scored.
const mine = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
let same = 0;
let worst = 0;
refLines.forEach((ref, i) => {
  const o = mine[i];
  if (`${o.subject}.csv` !== ref.file || o.index !== ref.index) throw new Error(`order differs at ${i}: ${o.subject}/${o.index} vs ${ref.file}/${ref.index}`);
  if (o.prediction === ref.prediction) same++;
  const want = ref.logits;
  const got = ['A', 'B', 'C', 'D'].map((l) => o.scores[l]);
  worst = Math.max(worst, Math.max(...got.map((g, k) => Math.abs(g - want[k]))) / Math.max(...want.map(Math.abs)));
});
console.log(JSON.stringify({
  bench: 'eval-cmmlu', date: new Date().toISOString(), data: `${data} ${split}`, model: 'v1-small (random weights, seed 42), v1 tokenizer, fp32',
  cpu: cpus()[0]?.model, cores: cpus().length, loadavg_1m_before: round(load0), loadavg_1m_after: round(loadavg()[0]),
  ours, reference,
  speed_ratio: typeof reference.questions_per_second === 'number' ? round(ours.questions_per_second / reference.questions_per_second) : null,
  agreement: { compared: refLines.length, same_prediction: same, max_rel_logit_diff: worst },
}));
rmSync(root, { recursive: true, force: true });

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
