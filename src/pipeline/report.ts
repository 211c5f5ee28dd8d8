// The pipeline's one report: report.html (every stage with its command, status and time; each
// training stage's loss curves, drawn by train/report.ts's lineChart from its metrics.jsonl; each
// evaluation's printed table) and report.json with the same facts. Rewritten after every stage.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../train/atomic.js';
import { lineChart, type Series } from '../train/report.js';

export interface StageRecord {
  name: string;
  run: string;
  argv: string[];
  status: 'done earlier' | 'ran' | 'failed' | 'not run';
  seconds: number | null;
  outputs: Record<string, string>;
  trainingRun?: string;
  /** The last lines the stage printed (its summary, an eval table). */
  summary: string;
  exitCode?: number | null;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function curves(runDir: string): string {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return '';
  const records = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, number>];
    } catch {
      return [];
    }
  });
  const colors: Record<string, string> = { loss: '#1f77b4', eval_loss: '#d62728', reward: '#2ca02c' };
  const series: Series[] = Object.keys(colors)
    .map((k) => ({ name: k, color: colors[k], points: records.filter((r) => typeof r[k] === 'number').map((r) => [r.step, r[k]] as [number, number]) }))
    .filter((s) => s.points.length > 0);
  return series.length ? lineChart('loss', series, { width: 640, height: 220 }) : '';
}

export function writePipelineReport(out: string, name: string, stages: StageRecord[]): void {
  writeFileAtomic(join(out, 'report.json'), JSON.stringify({ name, stages }, null, 2) + '\n');
  const rows = stages.map((s) => `<tr><td>${esc(s.name)}</td><td><code>minimind ${esc(s.run)}</code></td><td>${s.status}</td><td>${s.seconds === null ? '' : s.seconds.toFixed(1) + ' s'}</td><td>${esc(Object.values(s.outputs).map((p) => relative(out, p)).join(', '))}</td></tr>`);
  const sections = stages.filter((s) => s.status !== 'not run').map((s) => {
    const chart = s.trainingRun ? curves(s.trainingRun) : '';
    const link = s.trainingRun && existsSync(join(s.trainingRun, 'report.html')) ? `<p><a href="${esc(relative(out, join(s.trainingRun, 'report.html')))}">the run's own report</a></p>` : '';
    return `<h2>${esc(s.name)} <small>(${esc(s.run)})</small></h2>${chart}${link}<pre>${esc(s.summary)}</pre><details><summary>command</summary><pre>minimind ${esc(s.argv.join(' '))}</pre></details>`;
  });
  const html = `<!doctype html><meta charset="utf-8"><title>pipeline ${esc(name)}</title><body style="font-family:sans-serif;max-width:900px;margin:2em auto">
<h1>Pipeline ${esc(name)}</h1>
<table cellpadding="4" border="1" style="border-collapse:collapse"><tr><th>stage</th><th>command</th><th>status</th><th>time</th><th>output</th></tr>${rows.join('')}</table>
${sections.join('\n')}
</body>
`;
  writeFileAtomic(join(out, 'report.html'), html);
}
