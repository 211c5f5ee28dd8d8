// Writes SVG curves of RL runs for docs/CHANGELOG.md from their metrics.jsonl:
//   node tools/rl-figures.mjs OUT.svg "title" run-dir:key[:label] [run-dir:key[:label] ...]
// e.g. node tools/rl-figures.mjs docs/figures/agent.svg "held-out accuracy" runs/agent-arith/agent:eval_accuracy
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lineChart } from '../dist/src/train/report.js';

const [out, title, ...specs] = process.argv.slice(2);
if (!out || !title || specs.length === 0) {
  console.error('usage: node tools/rl-figures.mjs OUT.svg "title" run-dir:key[:label] ...');
  process.exit(2);
}
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const series = specs.map((spec, i) => {
  const [dir, key, label] = spec.split(':');
  const records = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { name: label ?? key, color: colors[i % colors.length], points: records.filter((r) => typeof r[key] === 'number').map((r) => [r.step, r[key]]) };
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, lineChart(title, series) + '\n');
console.log(`wrote ${out}: ${series.map((s) => `${s.name} (${s.points.length} points)`).join(', ')}`);
