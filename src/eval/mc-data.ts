// Multiple-choice benchmark files: C-Eval (`{subject}_{split}.csv`: id,question,A,B,C,D,answer) and
// CMMLU (`{split}/{subject}.csv`: ,Question,A,B,C,D,Answer). Finds the CSVs of one split, detects
// which layout they are in from the header, checks every row (an answer outside A-D is reported with
// its file and line) and maps subjects to categories with the benchmark's subject_mapping.json.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readCsv } from '../data/csv.js';
import { UserError } from '../core/errors.js';

export const LETTERS = ['A', 'B', 'C', 'D'] as const;
export type Letter = (typeof LETTERS)[number];
export type McFormat = 'ceval' | 'cmmlu';


export interface McQuestion {
  subject: string;
  /** 0-based row index within its file. */
  index: number;
  question: string;
  /** The texts of options A, B, C, D. */
  options: [string, string, string, string];
  /** Absent where the split has no answers (C-Eval test). */
  answer?: Letter;
  /** The C-Eval id column, where present. */
  id?: string;
  file: string;
  /** 1-based line of the row in its file. */
  line: number;
}

export interface SubjectInfo {
  /** The Chinese name, used in lm-eval's task description. */
  nameZh?: string;
  /**
   * STEM, Social Science, Humanities, Other. CMMLU also puts 15 subjects in "China specific", on
   * top of their main category, as its own scripts count them.
   */
  categories: string[];
}

export interface McSplit {
  format: McFormat;
  split: string;
  /** Subjects in file-name order. */
  subjects: string[];
  questions: McQuestion[];
  /** From subject_mapping.json next to the data; empty when there is none. */
  info: Map<string, SubjectInfo>;
}

export interface LoadMcOptions {
  /** The benchmark folder (ceval/, cmmlu/), a folder of CSVs, or one CSV file. */
  data: string;
  /** val | test | dev (C-Eval), test | dev (CMMLU). */
  split: string;
  /** Forces the layout instead of detecting it from the header. */
  format?: McFormat;
  /** Only these subjects: subject names (computer_network) or file-name stems (computer_network_val, .csv allowed). */
  subjects?: string[];
  /** At most this many questions of each subject, the first ones in its file (lm-eval's --limit). */
  limit?: number;
}

/** Loads and checks every question of one split. */
export async function loadMcSplit(opts: LoadMcOptions): Promise<McSplit> {
  const files = findSplitFiles(opts.data, opts.split);
  let chosen = files;
  if (opts.subjects && opts.subjects.length > 0) {
    const known = new Set(files.map((f) => f.subject));
    const stems = new Map(files.map((f) => [basename(f.file, '.csv'), f.subject]));
    const subject = (name: string) => (known.has(name) ? name : stems.get(name.replace(/\.csv$/, '')));
    const unknown = opts.subjects.filter((s) => subject(s) === undefined);
    if (unknown.length > 0) throw new UserError(`unknown subject${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in ${opts.data} (split ${opts.split}); known: ${[...known].slice(0, 8).join(', ')}${known.size > 8 ? ', ...' : ''}`);
    const want = new Set(opts.subjects.map(subject));
    chosen = files.filter((f) => want.has(f.subject));
  }
  const questions: McQuestion[] = [];
  let format: McFormat | undefined = opts.format;
  for (const { subject, file } of chosen) {
    const r = await readSubjectFile(file, subject, opts.format);
    if (format !== undefined && r.format !== format) throw new UserError(`${file}: a ${r.format} file among ${format} files; pass --format to choose one layout`);
    format = r.format;
    questions.push(...r.questions.slice(0, opts.limit));
  }
  return { format: format ?? 'ceval', split: opts.split, subjects: chosen.map((f) => f.subject), questions, info: readSubjectInfo(opts.data, files[0].file) };
}

/** The CSV files of a split: [subject, path], sorted by subject. */
export function findSplitFiles(data: string, split: string): { subject: string; file: string }[] {
  if (!existsSync(data)) throw new UserError(`benchmark data not found: ${data}`);
  if (statSync(data).isFile()) {
    if (!data.endsWith('.csv')) throw new UserError(`${data}: expected a .csv file or a folder of them`);
    return [{ subject: subjectOf(basename(data), split), file: data }];
  }
  // ceval/ceval-exam/val, cmmlu/test, or a folder of CSVs given directly.
  const candidates = [join(data, split), ...subfolders(data).map((d) => join(d, split)), data];
  for (const dir of candidates) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    const picked = splitCsvs(dir, split, dir === data);
    if (picked.length > 0) return picked.map((f) => ({ subject: subjectOf(f, split), file: join(dir, f) }));
  }
  throw new UserError(`no ${split} CSV files under ${data} (looked in ${split}/, */${split}/ and the folder itself); check --data and --split`);
}

/**
 * The CSVs of a folder that belong to the split: the `*_{split}.csv` ones where the names carry a
 * split (C-Eval), else all of them, except in the folder given as --data, whose unsuffixed CSVs
 * count only when no file names another split.
 */
function splitCsvs(dir: string, split: string, isDataDir: boolean): string[] {
  const csvs = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
  const ofSplit = csvs.filter((f) => f.endsWith(`_${split}.csv`));
  if (ofSplit.length > 0) return ofSplit;
  if (isDataDir && csvs.some((f) => /_(dev|val|test)\.csv$/.test(f))) return [];
  return csvs;
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name)).sort();
}

function subjectOf(fileName: string, split: string): string {
  const stem = fileName.replace(/\.csv$/, '');
  return stem.endsWith(`_${split}`) ? stem.slice(0, -split.length - 1) : stem;
}

/** C-Eval and CMMLU spell their columns differently; both have A, B, C, D. */
const COLUMNS: Record<McFormat, { question: string; answer: string; id?: string }> = {
  ceval: { question: 'question', answer: 'answer', id: 'id' },
  cmmlu: { question: 'Question', answer: 'Answer' },
};

/** Reads one subject file; the layout comes from its header unless forced. */
export async function readSubjectFile(file: string, subject: string, force?: McFormat): Promise<{ format: McFormat; questions: McQuestion[] }> {
  const questions: McQuestion[] = [];
  let format: McFormat | undefined = force;
  let index = 0;
  try {
    for await (const rec of readCsv(file)) {
      const v = rec.value;
      if (format === undefined) format = 'Question' in v ? 'cmmlu' : 'question' in v ? 'ceval' : undefined;
      if (format === undefined) throw new UserError(`${file}: no question column (expected C-Eval's id,question,A,B,C,D,answer or CMMLU's Question,A,B,C,D,Answer)`);
      const cols = COLUMNS[format];
      const missing = [cols.question, ...LETTERS].filter((c) => !(c in v));
      if (missing.length > 0) throw new UserError(`${file}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} for the ${format} layout`);
      const q: McQuestion = { subject, index, question: v[cols.question], options: [v.A, v.B, v.C, v.D], file, line: rec.line };
      if (cols.id && cols.id in v) q.id = v[cols.id];
      if (cols.answer in v) {
        const a = v[cols.answer];
        if (!(LETTERS as readonly string[]).includes(a)) throw new UserError(`${file}:${rec.line}: answer '${a}' is not one of A, B, C, D`);
        q.answer = a as Letter;
      }
      questions.push(q);
      index++;
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    // readCsv names the file and line of a malformed row (wrong column count, open quote).
    throw new UserError((e as Error).message);
  }
  return { format: format ?? force ?? 'ceval', questions };
}

/**
 * subject_mapping.json next to the split folders or one or two levels above the CSVs. C-Eval's maps
 * subject -> [English name, Chinese name, category]; CMMLU's has name_en2zh, subcategories (subject
 * -> [subcategory]) and categories (category -> [subcategories]).
 */
export function readSubjectInfo(data: string, aFile: string): Map<string, SubjectInfo> {
  const dirs = [data, dirname(aFile), dirname(dirname(aFile)), dirname(dirname(dirname(aFile)))];
  const path = dirs.map((d) => join(d, 'subject_mapping.json')).find((p) => existsSync(p));
  const out = new Map<string, SubjectInfo>();
  if (!path) return out;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: ${(e as Error).message}`);
  }
  if (j.name_en2zh && j.subcategories && j.categories) {
    const zh = j.name_en2zh as Record<string, string>;
    const sub = j.subcategories as Record<string, string[]>;
    const cats = j.categories as Record<string, string[]>;
    for (const [s, name] of Object.entries(zh)) {
      const mine = sub[s] ?? [];
      out.set(s, { nameZh: name, categories: Object.keys(cats).filter((c) => cats[c].some((x) => mine.includes(x))) });
    }
  } else {
    for (const [s, v] of Object.entries(j)) if (Array.isArray(v)) out.set(s, { nameZh: v[1], categories: typeof v[2] === 'string' ? [v[2]] : [] });
  }
  return out;
}
