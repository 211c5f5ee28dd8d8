// Host training refuses a micro-batch whose activations cannot fit before its first step, and the
// estimate it refuses by (MiniMindForCausalLM.trainingActivationBytes) is the memory training
// really grows by: peak RSS of real `pretrain` runs at two batch sizes, with and without gradient
// checkpointing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';

const TOK = resolve('../shared/data/minimind-tokenizer/head');
const skip = existsSync(TOK) ? false : `${TOK} not found (shared data absent)`;
const W = mkdtempSync(join(tmpdir(), 'mm-act-'));
const SEQ = 64;
const SHAPE = ['--preset', 'tiny', '--hidden-size', '256', '--num-hidden-layers', '4', '--max-seq-len', String(SEQ)];

function pretrain(extra: string[], env: Record<string, string> = {}): { status: number | null; stderr: string; maxRss: number } {
  const out = mkdtempSync(join(W, 'run-'));
  rmSync(out, { recursive: true });
  const r = spawnSync(process.execPath, ['-r', join(W, 'rss.cjs'), resolve('dist/src/cli/main.js'), 'pretrain', '--data', join(W, 'p.jsonl'), '--tokenizer', TOK, ...SHAPE,
    '--accumulation-steps', '1', '--max-steps', '1', '--pad-to-max-length', '--quiet', '--out', out, ...extra], { encoding: 'utf8', env: { ...process.env, ...env } });
  const m = /maxrss (\d+)/.exec(r.stderr);
  return { status: r.status, stderr: r.stderr, maxRss: m ? Number(m[1]) * 1024 : NaN };
}

test('one micro-batch grows the process by what the estimate says (pretrain, 48 more rows of 64 tokens)', { skip }, () => {
  writeFileSync(join(W, 'rss.cjs'), "process.on('exit', () => process.stderr.write('maxrss ' + process.resourceUsage().maxRSS + '\\n'));\n");
  // long texts, so every row is full at --max-seq-len
  const texts = generateQuickstartData(1).pretrainTexts;
  writeFileSync(join(W, 'p.jsonl'), Array.from({ length: 128 }, (_, i) => JSON.stringify({ text: texts.slice(i, i + 12).join(' ') })).join('\n'));
  const model = new MiniMindForCausalLM(presetConfig('tiny', { hidden_size: 256, num_hidden_layers: 4 }), { init: false });
  for (const gc of [false, true]) {
    const flags = gc ? ['--gradient-checkpointing'] : [];
    const small = pretrain(['--batch-size', '16', ...flags]);
    const large = pretrain(['--batch-size', '64', ...flags]);
    assert.equal(small.status, 0, small.stderr);
    assert.equal(large.status, 0, large.stderr);
    model.gradientCheckpointing = gc;
    const estimated = model.trainingActivationBytes(64 * SEQ) - model.trainingActivationBytes(16 * SEQ);
    const ratio = (large.maxRss - small.maxRss) / estimated;
    // observed: 1.05 without checkpointing, 0.96 with it
    assert.ok(ratio > 0.8 && ratio < 1.25, `gradient checkpointing ${gc}: measured ${large.maxRss - small.maxRss} B, estimated ${estimated} B (ratio ${ratio.toFixed(2)})`);
  }
  model.dispose();
});

test('a micro-batch whose activations do not fit is refused before the first step, naming the fixes; a smaller one trains', { skip }, () => {
  const limit = { MINIMIND_MEMORY_LIMIT: String(400e6) };
  const refused = pretrain(['--batch-size', '256'], limit);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /^minimind: training \d+ parameters \(gradients and AdamW moments: [\d.]+ MB; one micro-batch's activations: about 2\.\d+ GB\) needs about 2\.\d+ GB but this machine has 400 MB available .*lower --batch-size \(raise --accumulation-steps to keep the global batch\) or --max-seq-len, add --gradient-checkpointing/m);
  const fits = pretrain(['--batch-size', '8'], limit);
  assert.equal(fits.status, 0, fits.stderr);
});

test('cleanup', () => rmSync(W, { recursive: true, force: true }));
