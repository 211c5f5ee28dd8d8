// `data stats --html`: the statistics as one self-contained page (inline SVG bar charts, no scripts).
import type { CorpusStats, Histogram } from './stats.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function bars(title: string, labels: string[], values: number[]): string {
  const w = 640;
  const rowH = 22;
  const max = Math.max(1, ...values);
  const total = values.reduce((a, b) => a + b, 0) || 1;
  const rows = labels.map((l, i) => {
    const y = i * rowH;
    const bw = Math.round(((w - 260) * values[i]) / max);
    return `<text x="110" y="${y + 15}" text-anchor="end">${esc(l)}</text><rect x="120" y="${y + 3}" width="${bw}" height="${rowH - 6}" fill="#4a7dbf"/><text x="${126 + bw}" y="${y + 15}">${values[i].toLocaleString('en-US')} (${((100 * values[i]) / total).toFixed(1)}%)</text>`;
  });
  return `<h2>${esc(title)}</h2><svg width="${w}" height="${labels.length * rowH}" font-family="sans-serif" font-size="12">${rows.join('')}</svg>`;
}

function histLabels(h: Histogram): string[] {
  return h.counts.map((_, b) => (b === 0 ? `< ${h.edges[0]}` : b < h.edges.length ? `${h.edges[b - 1]}–${h.edges[b] - 1}` : `≥ ${h.edges[h.edges.length - 1]}`));
}

export function statsHtml(s: CorpusStats): string {
  const parts = [
    `<!doctype html><meta charset="utf-8"><title>minimind data stats</title><body style="font-family:sans-serif;max-width:760px;margin:2em auto">`,
    `<h1>Corpus statistics</h1><p>${esc(s.files.join(', '))}</p>`,
    `<table cellpadding="4">${[
      ['rows', s.rows.toLocaleString('en-US')],
      ['text', `${(s.bytes / 1e6).toFixed(2)} MB, ${s.chars.total.toLocaleString('en-US')} characters`],
      ...(s.tokens ? [['tokens', `${s.tokens.total.toLocaleString('en-US')} (${s.tokens.overMaxSeqLen} rows over max_seq_len ${s.tokens.maxSeqLen})`]] : []),
      ['exact duplicates', `${s.duplicates.rows} (${(100 * s.duplicates.rate).toFixed(1)}%)`],
      ['unreadable rows', String(s.rejects.total)],
    ].map(([k, v]) => `<tr><th align="left">${k}</th><td>${esc(v)}</td></tr>`).join('')}</table>`,
    bars('Characters per row', histLabels(s.chars), s.chars.counts),
  ];
  if (s.tokens) parts.push(bars('Tokens per row', histLabels(s.tokens), s.tokens.counts));
  const scripts = Object.entries(s.scripts).filter(([, n]) => n > 0);
  parts.push(bars('Rows by main script', scripts.map(([k]) => k), scripts.map(([, n]) => n)));
  const formats = Object.entries(s.formats);
  parts.push(bars('Record formats', formats.map(([k]) => k), formats.map(([, n]) => n as number)));
  const fields = Object.entries(s.fields).sort((a, b) => b[1] - a[1]).slice(0, 20);
  parts.push(bars('Fields', fields.map(([k]) => k), fields.map(([, n]) => n)));
  if (s.rejects.total > 0) parts.push(`<h2>Unreadable rows</h2><pre>${esc(s.rejects.lines().join('\n'))}</pre>`);
  return parts.join('\n') + '\n</body>\n';
}
