// --overwrite never loses the earlier run before the new one has a complete checkpoint (issue 21):
// both training loops (the supervised trainer through runInFolder, the RL loop) keep the earlier
// run aside while the new one starts, delete it only after the new run's first checkpoint and
// model are written, and put it back byte for byte when the new run fails first (a crash in the
// first save, a step that throws) or is killed (the next command finds and restores it). A run
// killed before its first checkpoint is reported the same way by a rerun and by --resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDataset } from '../../src/data/datasets.js';
import { causalLmLoss } from '../../src/train/losses.js';
import { runInFolder } from '../../src/train/common.js';
import { resolveTraining } from '../../src/train/options.js';
import type { TrainTask } from '../../src/train/trainer.js';
import { runStage, type LoopConfig, type Stage } from '../../src/train/loop.js';
import { rlStage as promptStage } from '../../src/train/rl/stage.js';
import { writeFolderAtomic } from '../../src/train/atomic.js';
import { tensor } from '../../src/core/tensor.js';
import * as ops from '../../src/ops/index.js';
import { trainTokenizer } from '../../src/tokenizer/index.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { saveModelFolder } from '../../src/formats/hf-folder.js';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';
import { FakeTokenizer } from '../data/fake-tokenizer.js';
import { ToyLM } from './toy-model.js';

const W = mkdtempSync(join(tmpdir(), 'mm-overwrite-'));
const cli = resolve('dist/src/cli/main.js');

/** Every file under dir (symlinks followed) with its sha1; folders as 'dir'. */
function snapshot(dir: string, into = new Map<string, string>(), rel = ''): Map<string, string> {
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(dir, r)).isDirectory()) {
      into.set(r + '/', 'dir');
      snapshot(dir, into, r);
    } else into.set(r, createHash('sha1').update(readFileSync(join(dir, r))).digest('hex'));
  }
  return into;
}

// --- the supervised trainer (runInFolder), on a toy model -------------------------------------
const data = join(W, 'p.jsonl');
writeFileSync(data, Array.from({ length: 16 }, (_, i) => JSON.stringify({ text: ['abab', 'cdcd', 'abcd'][i % 3].repeat(3) })).join('\n'));

async function toyTask(out: string, saveModel?: (dir: string) => void): Promise<TrainTask> {
  const ds = await openDataset({ kind: 'pretrain', files: [data], tokenizer: new FakeTokenizer(), tokenizerKey: 'fake', maxLength: 16, cacheDir: join(out, 'cache') });
  const model = new ToyLM(3 + 128, 8, 1);
  return {
    train: ds,
    padId: 0,
    params: model.namedParameters(),
    step: (b) => ({ loss: causalLmLoss(model.forward(b.inputIds, b.B, b.T), b.labels, b.B, b.T) }),
    saveModel: saveModel ?? ((d) => writeFileSync(join(d, 'weights.json'), JSON.stringify(model.namedParameters().map(([n, t]) => [n, Array.from(t.toArray())])))),
  };
}
const stage = (out: string, extra = {}) => resolveTraining('pretrain', { data, out, epochs: 2, batchSize: 4, logInterval: 1, saveInterval: 2, ...extra }, { epochs: 1, batchSize: 4, learningRate: 0.05, accumulationSteps: 1, maxSeqLen: 16, logInterval: 1, saveInterval: 2 });

test('trainer --overwrite: a crash in the first save puts the earlier run back byte for byte; a success replaces it only after its first checkpoint', async () => {
  const out = join(W, 'sup');
  await runInFolder(stage(out), () => toyTask(out));
  const before = snapshot(out);
  assert.ok(before.has('model/weights.json') && before.has('metrics.jsonl'));

  // the first save of the new run fails after its checkpoint was written (as a save whose
  // tokenizer folder had gone did): nothing of the earlier run is lost
  await assert.rejects(runInFolder(stage(out, { overwrite: true }), () => toyTask(out, () => {
    throw new Error('disk gone at save');
  })), /disk gone at save/);
  assert.deepEqual(snapshot(out), before);

  // a new run that succeeds: at its first save the earlier run is still there (aside), then gone
  const seenAtSaves: boolean[] = [];
  await runInFolder(stage(out, { overwrite: true, learningRate: 0.01 }), () => toyTask(out, (d) => {
    seenAtSaves.push(existsSync(join(out, '.earlier-run', 'model', 'weights.json')));
    writeFileSync(join(d, 'weights.json'), 'new');
  }));
  assert.deepEqual(seenAtSaves.slice(0, 2), [true, false], 'kept until the first checkpoint, deleted right after it');
  assert.ok(!existsSync(join(out, '.earlier-run')));
  assert.equal(readFileSync(join(out, 'model', 'weights.json'), 'utf8'), 'new');
});

// --- an RL stage (rl/stage.ts's plan and schedule) on one parameter ---------------------------
function rlStage(failAt: number | null, saved: string): Stage {
  const p = tensor(new Float32Array([1, 2, 3]), [3]);
  p.requiresGrad = true;
  let calls = 0;
  return promptStage({ prompts: 4, batchSize: 2, seed: 1, learningRate: 0.01 }, {
    params: [['p', p]],
    step: () => {
      if (++calls === failAt) throw new Error(`step ${calls} failed`);
      ops.sum(ops.mul(p, p)).backward();
      return { logs: { loss: 1 }, tokens: 1 };
    },
    saveModel: (d) => writeFileSync(join(d, 'p.json'), saved),
  });
}
const rlCfg = (outDir: string, extra: Partial<LoopConfig> = {}): LoopConfig => ({
  stage: 'grpo', outDir, epochs: 2, lr: 0.01, weightDecay: 0, gradClip: 1, logInterval: 1, saveInterval: 2, evalInterval: 0, seed: 1, resume: false, ...extra,
});
const rlLoop = (cfg: LoopConfig, stage: Stage) => runStage(cfg, async () => stage);

test('RL stage: an earlier run is refused without --overwrite, kept through a failed --overwrite, replaced by a successful one (model folder swapped in whole)', async () => {
  const out = join(W, 'rl');
  await rlLoop(rlCfg(out), rlStage(null, 'earlier'));
  const before = snapshot(out);
  assert.ok(before.has('model/p.json') && before.has('checkpoints/latest.json'));
  await assert.rejects(rlLoop(rlCfg(out), rlStage(null, 'new')), /already holds a run \(model, checkpoints, metrics\.jsonl, report\.html\); continue it with --resume, replace it with --overwrite/);
  assert.deepEqual(snapshot(out), before);
  await assert.rejects(rlLoop(rlCfg(out, { overwrite: true }), rlStage(1, 'new')), /step 1 failed/);
  assert.deepEqual(snapshot(out), before);
  await rlLoop(rlCfg(out, { overwrite: true }), rlStage(null, 'new'));
  assert.equal(readFileSync(join(out, 'model', 'p.json'), 'utf8'), 'new');
  assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.') || n.includes('.tmp-') || n.includes('.old-')), []);
});

test('writeFolderAtomic: a failed write leaves the old folder and no temporary one', async () => {
  const dir = join(W, 'swap', 'model');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'w'), 'old');
  await assert.rejects(writeFolderAtomic(dir, (tmp) => {
    writeFileSync(join(tmp, 'w'), 'half');
    throw new Error('full disk');
  }), /full disk/);
  assert.deepEqual(readdirSync(join(W, 'swap')), ['model']);
  assert.equal(readFileSync(join(dir, 'w'), 'utf8'), 'old');
  await writeFolderAtomic(dir, (tmp) => writeFileSync(join(tmp, 'w'), 'new'));
  assert.deepEqual(readdirSync(join(W, 'swap')), ['model']);
  assert.equal(readFileSync(join(dir, 'w'), 'utf8'), 'new');
});

test('a save killed between its two renames (the old model set aside, the new not yet in): loaders name the folder left and how to put it back; the next save puts it back first', async () => {
  const run = join(W, 'mid-swap');
  mkdirSync(run, { recursive: true });
  saveModelFolder(join(run, 'model'), new MiniMindForCausalLM(presetConfig('tiny-3', { hidden_size: 32, num_hidden_layers: 1 }), { seed: 1 }), { tokenizerDir: '../shared/data/minimind-tokenizer/head' });
  // the state such a kill leaves: model/ renamed to model.old-<pid of a process now gone>
  const dead = spawnSync(process.execPath, ['-e', 'process.pid'], {}).pid!;
  const left = join(run, `model.old-${dead}`);
  renameSync(join(run, 'model'), left);
  const gen = spawnSync(process.execPath, [cli, 'generate', '--model', join(run, 'model'), '--prompt', 'hi'], { encoding: 'utf8' });
  assert.equal(gen.status, 2, gen.stderr);
  assert.equal(gen.stderr.trim(), `minimind: model folder not found: ${join(run, 'model')} (a save stopped between two renames left the previous one in ${left}; put it back with: mv '${left}' '${join(run, 'model')}')`);
  const weights = readFileSync(join(left, 'model.safetensors'));
  // the next save of that folder (the run resumed) restores it before it swaps
  await writeFolderAtomic(join(run, 'model'), (tmp) => {
    assert.deepEqual(readFileSync(join(run, 'model', 'model.safetensors')), weights, 'the earlier model is back in place while the new one is written');
    writeFileSync(join(tmp, 'w'), 'new');
  });
  assert.deepEqual(readdirSync(run), ['model']);
  assert.equal(readFileSync(join(run, 'model', 'w'), 'utf8'), 'new');
});

// --- the command, killed -----------------------------------------------------------------------
const qs = generateQuickstartData(5);
writeFileSync(join(W, 'sft.jsonl'), qs.sftConversations.slice(0, 8).map((conversations) => JSON.stringify({ conversations })).join('\n') + '\n');
const tok = trainTokenizer({ texts: qs.pretrainTexts, vocabSize: 300, preset: 'minimind3' });
tok.save(join(W, 'tok'));
saveModelFolder(join(W, 'model'), new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 1 }), { tokenizerDir: join(W, 'tok') });
const sft = (out: string, ...extra: string[]) => ['sft', '--data', 'sft.jsonl', '--init-from', 'model', '--max-seq-len', '64', '--batch-size', '4', '--log-interval', '1', '--out', out, ...extra];
const run = (argv: string[]) => spawnSync(process.execPath, [cli, ...argv], { cwd: W, encoding: 'utf8', env: { ...process.env, MINIMIND_BACKEND: 'js' } });

/**
 * Starts a long run into `out` and sends it `signal` (SIGKILL) once `ready()` holds (its first step
 * was logged), before any checkpoint; resolves with its exit code (null when the signal killed it).
 */
function killEarly(argv: string[], ready: () => boolean, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [cli, ...argv, '--epochs', '5000', '--save-interval', '1000000', '--quiet'], { cwd: W, stdio: 'ignore', env: { ...process.env, MINIMIND_BACKEND: 'js' } });
    let sent = false;
    const poll = setInterval(() => {
      if (!sent && ready()) p.kill(signal), (sent = true);
    }, 10);
    p.on('exit', (code, by) => {
      clearInterval(poll);
      if (sent) done(by === null ? code : null);
      else fail(new Error(`the run ended (${code ?? by}) before it was killed`));
    });
  });
}

function lastLine(r: ReturnType<typeof run>): string {
  return r.stderr.trim().split('\n').pop()!;
}

test('sft --overwrite killed before its first checkpoint: the next command puts the earlier run back, byte for byte', async () => {
  const out = join(W, 'R');
  assert.equal(run(sft('R', '--epochs', '1', '--quiet')).status, 0);
  const before = snapshot(out);
  await killEarly(sft('R', '--overwrite'), () => existsSync(join(out, '.earlier-run', 'model')) && existsSync(join(out, 'metrics.jsonl')));
  assert.ok(existsSync(join(out, '.earlier-run', 'model')), 'the earlier run was aside when the run was killed');
  const r = run(sft('R', '--epochs', '1'));
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /put back the earlier run \(model, checkpoints, metrics\.jsonl, report\.html\)/);
  assert.match(lastLine(r), /^minimind: .*R already holds a run \(model, checkpoints, metrics\.jsonl, report\.html\); continue it with --resume, replace it with --overwrite/);
  assert.deepEqual(snapshot(out), before);
});

test('sft --overwrite terminated (SIGTERM, as `kill` or a scheduler sends it) before its first checkpoint: the earlier run is back at once, byte for byte', async () => {
  const out = join(W, 'T');
  assert.equal(run(sft('T', '--epochs', '1', '--quiet')).status, 0);
  const before = snapshot(out);
  const code = await killEarly(sft('T', '--overwrite'), () => existsSync(join(out, '.earlier-run', 'model')) && existsSync(join(out, 'metrics.jsonl')), 'SIGTERM');
  assert.equal(code, 143);
  assert.deepEqual(snapshot(out), before, 'no command needed to put it back: the model is where it was');
});

test('a run killed before its first checkpoint: a plain rerun and --resume give the same diagnosis and suggest --overwrite, which then works', async () => {
  const out = join(W, 'K');
  await killEarly(sft('K'), () => existsSync(join(out, 'metrics.jsonl')));
  const before = snapshot(out);
  before.delete('.minimind.lock'); // the killed run's: stale, taken over and given back by the next command
  const diagnosis = /K holds a run killed before its first checkpoint \(.*metrics\.jsonl.*\): there is nothing to continue; start it again with --overwrite, or choose another --out$/;
  for (const extra of [[], ['--resume']]) {
    const r = run(sft('K', '--epochs', '1', ...extra));
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), extra.length ? /^minimind: --resume: / : /^minimind: \//);
    assert.match(r.stderr.trim(), diagnosis);
    assert.deepEqual(snapshot(out), before);
  }
  const r = run(sft('K', '--epochs', '1', '--overwrite', '--quiet'));
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(out, 'model', 'model.safetensors')));
});

test('grpo --overwrite from a model with NaN weights: one line, exit 2, the earlier RL run stays byte for byte', () => {
  const out = join(W, 'G');
  const grpo = (...extra: string[]) => run(['grpo', '--data', 'sft.jsonl', '--max-gen-len', '4', '--num-generations', '2', '--batch-size', '4', '--out', 'G', '--quiet', ...extra]);
  assert.equal(grpo('--init-from', 'model').status, 0);
  const before = snapshot(out);
  const nan = new MiniMindForCausalLM(presetConfig('tiny-3', { vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 1 }), { seed: 1 });
  for (const [, t] of nan.namedParameters()) {
    const up = t.backend.upload(new Float32Array(t.size).fill(NaN));
    t.backend.copy(t.buf, up, t.size);
    t.backend.free(up);
  }
  saveModelFolder(join(W, 'nan-model'), nan, { tokenizerDir: join(W, 'tok') });
  const r = grpo('--init-from', 'nan-model', '--overwrite');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /^minimind: --init-from: cannot load model folder nan-model; the weights hold NaN[^\n]*$/);
  assert.deepEqual(snapshot(out), before);
});

test('cleanup', () => rmSync(W, { recursive: true, force: true }));
