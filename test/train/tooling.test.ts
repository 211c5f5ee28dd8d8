// Run tooling: atomic checkpoint folders, metrics.jsonl on resume, the HTML
// report and the progress line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latestCheckpointDir, saveCheckpointDir, writeFileAtomic } from '../../src/train/atomic.js';
import { MetricsWriter } from '../../src/train/metrics.js';
import { renderReport, writeReport } from '../../src/train/report.js';
import { Progress } from '../../src/train/progress.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mm-train-'));
}

test('checkpoints: latest.json points at the newest complete folder; a failed write leaves the old one', async () => {
  const root = join(tmp(), 'checkpoints');
  assert.equal(latestCheckpointDir(root), null);
  await saveCheckpointDir(root, 10, (d) => writeFileSync(join(d, 'a.txt'), 'ten'));
  await saveCheckpointDir(root, 20, (d) => writeFileSync(join(d, 'a.txt'), 'twenty'));
  assert.equal(readFileSync(join(latestCheckpointDir(root)!, 'a.txt'), 'utf8'), 'twenty');
  await assert.rejects(
    saveCheckpointDir(root, 30, (d) => {
      writeFileSync(join(d, 'a.txt'), 'half');
      throw new Error('crash while writing');
    }),
    /crash while writing/,
  );
  assert.equal(readFileSync(join(latestCheckpointDir(root)!, 'a.txt'), 'utf8'), 'twenty');
  await saveCheckpointDir(root, 40, (d) => writeFileSync(join(d, 'a.txt'), 'forty'), 2);
  const names = readdirSync(root).sort();
  assert.deepEqual(names, ['latest.json', 'step-00000020', 'step-00000040']);
  writeFileAtomic(join(root, 'x.json'), '{}');
  assert.ok(!readdirSync(root).some((n) => n.includes('.tmp-')));
});

test('metrics.jsonl: a resumed run drops records after the resumed step', () => {
  const dir = tmp();
  const p = join(dir, 'metrics.jsonl');
  const w = new MetricsWriter(p);
  for (let s = 1; s <= 5; s++) w.write({ step: s, loss: 10 - s });
  const r = new MetricsWriter(p, 3);
  assert.deepEqual(r.records.map((x) => x.step), [1, 2, 3]);
  r.write({ step: 4, loss: 1 });
  const lines = readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
  assert.deepEqual(lines, [1, 2, 3, 4]);
  rmSync(dir, { recursive: true });
});

test('report.html: self-contained, with a loss path per series and the settings table', () => {
  const recs = Array.from({ length: 30 }, (_, i) => ({ step: i + 1, loss: 5 / (i + 1), lr: 1e-3, ...(i % 10 === 9 ? { eval_loss: 6 / (i + 1) } : {}) }));
  const html = renderReport('pretrain run', recs, { stage: 'pretrain', batch_size: 4 });
  assert.match(html, /<svg/);
  assert.equal((html.match(/<path /g) ?? []).length, 3); // loss, eval_loss, lr
  assert.match(html, /eval_loss/);
  assert.match(html, /batch_size/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
  const dir = tmp();
  writeReport(dir, 'r', recs, {});
  assert.ok(existsSync(join(dir, 'report.html')));
  rmSync(dir, { recursive: true });
});

test('progress line: percent, counts, loss and lr', () => {
  const p = new Progress('sft', 200, { tty: false });
  p.update(0, 1000);
  const line = p.line(50, { loss: 2.5, lr: 1e-4 });
  assert.match(line, /^sft  25% 50\/200 \[\d\d:\d\d<[\d:-]+, [\d.]+[kM]? tok\/s\] loss 2\.5000 lr 1\.00e-4$/);
});
