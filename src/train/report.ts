// report.html: a self-contained page (inline SVG, no scripts or external assets) with the loss
// and learning-rate curves of a run and its settings. Re-written atomically at every log and
// save, so a person can open it at any time during training.
import { join } from '../io/path.js';
import { writeFileAtomic } from './atomic.js';

/** One line of metrics.jsonl (run-log.ts writes them). */
export interface MetricRecord {
  step: number;
  [key: string]: number | string | null;
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceNumber(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-2 ? x.toExponential(1) : Number(x.toPrecision(3)).toString();
}

/** One line chart as an SVG string: x = step, y = value, with axes, ticks and a legend. */
export function lineChart(title: string, series: Series[], opts: { width?: number; height?: number; logY?: boolean } = {}): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 280;
  const m = { l: 64, r: 16, t: 28, b: 36 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!opts.logY || y > 0));
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="8" y="30" font-size="13">${esc(title)}: no data yet</text></svg>`;
  const fy = (y: number) => (opts.logY ? Math.log10(y) : y);
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => fy(p[1]))), Math.max(...all.map((p) => fy(p[1])))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - (Math.abs(y0) * 0.1 || 0.5), y1 + (Math.abs(y1) * 0.1 || 0.5)];
  const pad = (y1 - y0) * 0.05;
  // the margin never takes the axis below 0 for values that cannot be negative there (a loss of 10 -> 0.01 once gave -0.49)
  y0 = !opts.logY && y0 >= 0 ? Math.max(0, y0 - pad) : y0 - pad;
  y1 += pad;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((fy(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="${m.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#ccc"/>`);
  for (let k = 0; k <= 4; k++) {
    const yv = y0 + ((y1 - y0) * k) / 4;
    const py = H - m.b - ((yv - y0) / (y1 - y0)) * (H - m.t - m.b);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py.toFixed(1)}" y2="${py.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(py + 4).toFixed(1)}" text-anchor="end">${niceNumber(opts.logY ? 10 ** yv : yv)}</text>`);
    const xv = x0 + ((x1 - x0) * k) / 4;
    parts.push(`<text x="${sx(xv).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${Math.round(xv)}</text>`);
  }
  parts.push(`<text x="${(W + m.l) / 2}" y="${H - 4}" text-anchor="middle" fill="#555">step</text>`);
  series.forEach((s, k) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!opts.logY || y > 0));
    if (pts.length === 0) return;
    const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    if (pts.length <= 40) for (const [x, y] of pts) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.2" fill="${s.color}"/>`);
    const lx = W - m.r - 150;
    parts.push(`<rect x="${lx}" y="${m.t + 8 + 16 * k}" width="12" height="3" fill="${s.color}"/><text x="${lx + 18}" y="${m.t + 13 + 16 * k}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function seriesOf(records: MetricRecord[], key: string): [number, number][] {
  return records.filter((r) => typeof r[key] === 'number').map((r) => [r.step, r[key] as number]);
}

/** The whole page for a run. `info` is shown as a settings table (stage, model, data, ...). */
export function renderReport(title: string, records: MetricRecord[], info: Record<string, unknown>): string {
  const lossKeys = ['loss', 'eval_loss', 'ce_loss', 'kl_loss', 'distill_loss', 'aux_loss'].filter((k) => records.some((r) => typeof r[k] === 'number'));
  const colors: Record<string, string> = { loss: '#1f77b4', eval_loss: '#d62728', ce_loss: '#2ca02c', kl_loss: '#9467bd', distill_loss: '#e377c2', aux_loss: '#8c564b' };
  const charts = [
    lineChart('Loss', lossKeys.map((k) => ({ name: k, color: colors[k], points: seriesOf(records, k) }))),
    lineChart('Learning rate', [{ name: 'lr', color: '#ff7f0e', points: seriesOf(records, 'lr') }]),
  ];
  // RL stages log rewards (total and per reward function), KL, clip fraction, length, entropy and eval_* measurements.
  const rlKeys = [...new Set(records.flatMap((r) => Object.keys(r)))].filter((k) => /^(reward|reward_.+|kl|clip_frac|len|entropy|eval_.+|tool_calls|gt_share)$/.test(k) && k !== 'reward_acc' && k !== 'eval_loss');
  for (const extra of ['reward_acc', 'margin', ...rlKeys, 'tokens_per_s']) {
    if (records.some((r) => typeof r[extra] === 'number')) charts.push(lineChart(extra, [{ name: extra, color: '#17becf', points: seriesOf(records, extra) }]));
  }
  const last = records[records.length - 1];
  const rows = Object.entries({ ...info, ...(last ? { 'last step': last.step, 'last loss': last.loss } : {}) })
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'string' ? v : String(JSON.stringify(v)))}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}th{background:#f6f6f6}</style>
</head><body>
<h1>${esc(title)}</h1>
<p>Updated ${esc(new Date().toISOString())}. Data: metrics.jsonl in this folder.</p>
${charts.join('\n')}
<table>${rows}</table>
</body></html>
`;
}

export function writeReport(runDir: string, title: string, records: MetricRecord[], info: Record<string, unknown>): void {
  writeFileAtomic(join(runDir, 'report.html'), renderReport(title, records, info));
}
