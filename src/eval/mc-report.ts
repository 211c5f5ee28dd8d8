// Accuracy per subject, per category and in total (every figure is over questions, as v1's total and
// lm-eval's size-weighted groups are), the printed table, and the per-question lines of --out.
import type { McSplit } from './mc-data.js';
import type { McMethod, McResult } from './multiple-choice.js';

export interface Accuracy {
  /** Questions scored (those with an answer). */
  total: number;
  correct: number;
  accuracy: number;
  /** loglik only: by the length-normalised scores (lm-eval's acc_norm). */
  correct_norm?: number;
  accuracy_norm?: number;
}

export interface McSummary extends Accuracy {
  format: string;
  split: string;
  method: McMethod;
  /** Every question predicted, answered or not. */
  questions: number;
  subjects: Record<string, Accuracy & { categories?: string[] }>;
  /** Empty when the data has no subject_mapping.json. CMMLU's "China specific" overlaps the others. */
  categories: Record<string, Accuracy>;
}

class Tally {
  total = 0;
  correct = 0;
  correctNorm = 0;
  add(r: McResult): void {
    if (r.question.answer === undefined) return;
    this.total++;
    if (r.prediction === r.question.answer) this.correct++;
    if (r.predictionNorm === r.question.answer) this.correctNorm++;
  }
  entry(norm: boolean): Accuracy {
    const acc = (n: number) => (this.total > 0 ? n / this.total : 0);
    const e: Accuracy = { total: this.total, correct: this.correct, accuracy: acc(this.correct) };
    if (norm) Object.assign(e, { correct_norm: this.correctNorm, accuracy_norm: acc(this.correctNorm) });
    return e;
  }
}

export function mcSummary(results: readonly McResult[], split: McSplit, method: McMethod): McSummary {
  const norm = method === 'loglik';
  const all = new Tally();
  const bySubject = new Map<string, Tally>(split.subjects.map((s) => [s, new Tally()]));
  const byCategory = new Map<string, Tally>();
  for (const r of results) {
    all.add(r);
    bySubject.get(r.question.subject)?.add(r);
    for (const cat of split.info.get(r.question.subject)?.categories ?? []) {
      if (!byCategory.has(cat)) byCategory.set(cat, new Tally());
      byCategory.get(cat)!.add(r);
    }
  }
  const subjects: McSummary['subjects'] = {};
  for (const [s, t] of bySubject) {
    const categories = split.info.get(s)?.categories;
    subjects[s] = { ...t.entry(norm), ...(categories && categories.length > 0 ? { categories } : {}) };
  }
  const categories: McSummary['categories'] = {};
  for (const [c, t] of [...byCategory].sort((a, b) => a[0].localeCompare(b[0]))) categories[c] = t.entry(norm);
  return { format: split.format, split: split.split, method, questions: results.length, ...all.entry(norm), subjects, categories };
}

/** The table printed at the end of a run: subjects, then categories, then the total. */
export function formatMcSummary(s: McSummary): string {
  const norm = s.method === 'loglik';
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const names = [...Object.keys(s.subjects), ...Object.keys(s.categories), 'TOTAL'];
  const w = Math.max(...names.map((n) => n.length), 8);
  const head = `${'subject'.padEnd(w)}  ${'correct'.padStart(12)}  ${'acc'.padStart(7)}${norm ? `  ${'acc_norm'.padStart(8)}` : ''}`;
  const row = (name: string, e: Accuracy) =>
    `${name.padEnd(w)}  ${`${e.correct}/${e.total}`.padStart(12)}  ${pct(e.accuracy).padStart(7)}${norm ? `  ${pct(e.accuracy_norm ?? 0).padStart(8)}` : ''}`;
  const lines = [`${s.format} ${s.split}, method ${s.method}`, head];
  for (const [n, e] of Object.entries(s.subjects)) lines.push(row(n, e));
  if (Object.keys(s.categories).length > 0) {
    lines.push('', 'category');
    for (const [n, e] of Object.entries(s.categories)) lines.push(row(n, e));
  }
  lines.push('', row('TOTAL', s));
  if (s.total < s.questions) lines.push(`${s.questions - s.total} question${s.questions - s.total === 1 ? '' : 's'} without an answer in the data: predicted, not scored`);
  return lines.join('\n');
}

/** One --out line: where the question is from, the four scores, the prediction and the answer. */
export function mcResultRecord(r: McResult, method: McMethod): Record<string, unknown> {
  const q = r.question;
  const letters = ['A', 'B', 'C', 'D'];
  const named = (xs: number[]) => Object.fromEntries(xs.map((x, i) => [letters[i], x]));
  return {
    subject: q.subject,
    index: q.index,
    ...(q.id !== undefined ? { id: q.id } : {}),
    scores: named(r.scores),
    ...(method === 'letter' ? { probs: named(r.secondary) } : { scores_norm: named(r.secondary) }),
    prediction: r.prediction,
    ...(r.predictionNorm !== undefined ? { prediction_norm: r.predictionNorm } : {}),
    answer: q.answer ?? null,
    ...(q.answer !== undefined ? { correct: r.prediction === q.answer } : {}),
    tokens: r.tokens,
  };
}
