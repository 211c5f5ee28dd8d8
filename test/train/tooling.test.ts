// Run tooling: atomic checkpoint folders, metrics.jsonl on resume, the HTML
// report and the progress line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidCheckpoint, latestCheckpointDir, saveCheckpointDir, writeFileAtomic } from '../../src/train/atomic.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { MetricsWriter } from '../../src/train/metrics.js';
import { renderReport, writeReport } from '../../src/train/report.js';
import { Progress } from '../../src/train/progress.js';

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

test('progress line: percent, counts, loss and lr', () => {
  const p = new Progress('sft', 200, { tty: false });
  p.update(0, 1000);
  const line = p.line(50, { loss: 2.5, lr: 1e-4 });
  assert.match(line, /^sft  25% 50\/200 \[\d\d:\d\d<[\d:-]+, [\d.]+[kM]? tok\/s\] loss 2\.5000 lr 1\.00e-4$/);
});
