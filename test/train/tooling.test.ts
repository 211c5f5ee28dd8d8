// Run tooling: atomic checkpoint folders, metrics.jsonl on resume, the HTML
// report and the progress line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidCheckpoint, latestCheckpointDir, saveCheckpointDir, writeFileAtomic } from '../../src/train/atomic.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { MetricsWriter } from '../../src/train/run-log.js';
import { lineChart, renderReport, writeReport } from '../../src/train/report.js';
import { Progress } from '../../src/cli/progress.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mm-train-'));
}

/** A checkpoint as the trainer writes one: trainer_state.json + state.safetensors. */
function writeCkpt(d: string, tag: string): void {
  writeFileSync(join(d, 'trainer_state.json'), JSON.stringify({ tag }));
  writeSafetensors(join(d, 'state.safetensors'), { w: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } });
}
const tagOf = (d: string | null) => JSON.parse(readFileSync(join(d!, 'trainer_state.json'), 'utf8')).tag;

test('checkpoints: latest.json points at the newest complete folder; a failed write leaves the old one', async () => {
  const root = join(tmp(), 'checkpoints');
  assert.equal(latestCheckpointDir(root), null);
  await saveCheckpointDir(root, 10, (d) => writeCkpt(d, 'ten'));
  await saveCheckpointDir(root, 20, (d) => writeCkpt(d, 'twenty'));
  assert.equal(tagOf(latestCheckpointDir(root)), 'twenty');
  await assert.rejects(
    saveCheckpointDir(root, 30, (d) => {
      writeCkpt(d, 'half');
      throw new Error('crash while writing');
    }),
    /crash while writing/,
  );
  assert.equal(tagOf(latestCheckpointDir(root)), 'twenty');
  await saveCheckpointDir(root, 40, (d) => writeCkpt(d, 'forty'), 2);
  const names = readdirSync(root).sort();
  assert.deepEqual(names, ['latest.json', 'step-00000020', 'step-00000040']);
  writeFileAtomic(join(root, 'x.json'), '{}');
  assert.ok(!readdirSync(root).some((n) => n.includes('.tmp-')));
});

test('checkpoints: saving a step again replaces it only once the new one is complete', async () => {
  const root = join(tmp(), 'checkpoints');
  await saveCheckpointDir(root, 10, (d) => writeCkpt(d, 'first'));
  await assert.rejects(saveCheckpointDir(root, 10, () => { throw new Error('disk full'); }), /disk full/);
  assert.equal(tagOf(latestCheckpointDir(root)), 'first');
  await saveCheckpointDir(root, 10, (d) => writeCkpt(d, 'second'));
  assert.equal(tagOf(latestCheckpointDir(root)), 'second');
  assert.deepEqual(readdirSync(root).sort(), ['latest.json', 'step-00000010']);
});

test('checkpoints: a damaged latest.json or a truncated newest checkpoint falls back to the newest complete one', async () => {
  const root = join(tmp(), 'checkpoints');
  await saveCheckpointDir(root, 10, (d) => writeCkpt(d, 'ten'), 5);
  await saveCheckpointDir(root, 20, (d) => writeCkpt(d, 'twenty'), 5);
  writeFileSync(join(root, 'latest.json'), '{"step": 2');
  const warnings: string[] = [];
  assert.equal(tagOf(latestCheckpointDir(root, (m) => warnings.push(m))), 'twenty');
  assert.match(warnings[0], /latest\.json is missing or damaged; using the newest complete checkpoint/);
  // the newest checkpoint cut short (a full disk): the one before it is used
  writeFileSync(join(root, 'latest.json'), JSON.stringify({ step: 20, dir: 'step-00000020' }));
  const st = join(root, 'step-00000020', 'state.safetensors');
  writeFileSync(st, readFileSync(st).subarray(0, 20));
  assert.equal(tagOf(latestCheckpointDir(root)), 'ten');
  assert.equal(isValidCheckpoint(join(root, 'step-00000020')), false);
  rmSync(join(root, 'step-00000010', 'trainer_state.json'));
  assert.equal(latestCheckpointDir(root), null);
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

test('report.html: a chart\'s y axis fits its data (no -0.49 under a loss falling 10 -> 0.01; a constant lr of 1e-3 is not drawn on -0.5 .. 0.5)', () => {
  const yTicks = (svg: string) => [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => Number(m[1]));
  const loss = yTicks(lineChart('Loss', [{ name: 'loss', color: '#000', points: Array.from({ length: 50 }, (_, i) => [i + 1, 10 / (i + 1) ** 1.77] as [number, number]) }]));
  assert.equal(loss.length, 5);
  assert.equal(Math.min(...loss), 0);
  assert.ok(Math.max(...loss) >= 10 && Math.max(...loss) < 11, `top tick ${Math.max(...loss)}`);
  const lr = yTicks(lineChart('lr', [{ name: 'lr', color: '#000', points: [[1, 1e-3], [2, 1e-3]] }]));
  assert.ok(Math.min(...lr) > 0 && Math.max(...lr) < 2e-3, `lr ticks ${lr.join(', ')}`);
  // values below 0 keep a margin below their minimum
  const neg = yTicks(lineChart('margin', [{ name: 'm', color: '#000', points: [[1, -1], [2, 1]] }]));
  assert.ok(Math.min(...neg) < -1);
});

test('progress line: percent, counts, loss and lr', () => {
  let now = 0;
  const p = new Progress('sft', 200, { tty: false, now: () => now });
  p.update(0, 1000);
  now = 2000;
  p.update(50, 1000);
  const line = p.line(50, { loss: 2.5, lr: 1e-4 });
  assert.equal(line, 'sft  25% 50/200 [00:02<00:06, 500 tok/s] loss 2.5000 lr 1.00e-4');
});

test('progress rates count from the first update: the report that makes the bar has no timed work (was "10200000.00M tok/s")', () => {
  let now = 5000;
  const p = new Progress('pretrain', 1000, { tty: false, now: () => now });
  // the trainer's bar is made by the report of step 501 (a resumed run), at the same millisecond
  p.update(501, 10200);
  assert.equal(p.line(501), 'pretrain  50% 501/1000 [00:00<--:--]');
  now += 1500;
  p.update(502, 10200);
  p.update(503, 10200);
  // 2 steps and 20,400 tokens in 1.5 s: 13.6k tok/s, 497 steps left at 1.33 steps/s
  assert.equal(p.line(503), 'pretrain  50% 503/1000 [00:02<06:13, 13.6k tok/s]');
});
