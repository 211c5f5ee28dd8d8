// `minimind pipeline`: a tiny pipeline (convert ShareGPT -> clean -> dedup -> tokenizer -> pretrain
// -> sft -> eval ppl) run through the real command, killed (SIGKILL, whole process group) once the
// pretrain stage has a checkpoint, then run again: finished stages are not rerun (also once their
// input files are gone), pretrain continues from its checkpoint to the same final step, and one
// report covers every stage. A changed stage runs again with every stage after it. Bad pipeline files are one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateQuickstartData } from '../../src/train/quickstart-data.js';

const cli = resolve('dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mm-pipeline-'));
const at = (...p: string[]) => join(dir, ...p);
const qs = generateQuickstartData(3);
writeFileSync(at('raw.jsonl'), [...qs.pretrainTexts.slice(0, 200), ...qs.pretrainTexts.slice(0, 20)].map((text) => JSON.stringify({ text })).join('\n') + '\n');
const sharegpt = qs.sftConversations.slice(0, 60).map((c) => ({ conversations: c.map((m) => ({ from: m.role === 'user' ? 'human' : m.role === 'assistant' ? 'gpt' : m.role, value: m.content })) }));
writeFileSync(at('chat.json'), JSON.stringify(sharegpt, null, 1));

function pipelineFile(sftSteps: number): string {
  const p = at('tiny.json');
  writeFileSync(p, JSON.stringify({
    name: 'tiny',
    out: at('run'),
    stages: [
      { name: 'chat', run: 'data convert', inputs: [at('chat*.json')], args: { to: 'sft' } },
      { name: 'clean', run: 'data clean', inputs: [at('raw.jsonl')], args: { 'min-chars': 5, threads: 1 } },
      { name: 'dedup', run: 'data dedup', inputs: ['${clean}'], args: { threads: 1 } },
      { name: 'tok', run: 'tokenizer train', args: { data: '${dedup}', 'vocab-size': 320, preset: 'minimind3' } },
      { name: 'pretrain', run: 'pretrain', args: { data: '${dedup}', tokenizer: '${tok}', preset: 'tiny', 'max-steps': 40, epochs: 10, 'accumulation-steps': 1, 'batch-size': 4, 'max-seq-len': 64, 'save-interval': 2, 'log-interval': 1, quiet: true } },
      { name: 'sft', run: 'sft', args: { data: '${chat}', 'init-from': '${pretrain}', 'max-steps': sftSteps, 'batch-size': 4, 'max-seq-len': 96, 'log-interval': 1, quiet: true } },
      { name: 'ppl', run: 'eval ppl', args: { model: '${sft}', data: '${dedup}', limit: 5, 'max-seq-len': 64 } },
    ],
  }));
  return p;
}

const report = () => JSON.parse(readFileSync(at('run', 'report.json'), 'utf8')) as { stages: { name: string; status: string; summary: string }[] };
const statuses = () => Object.fromEntries(report().stages.map((s) => [s.name, s.status]));
const steps = (run: string) => readFileSync(at('run', run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step as number);

test('a pipeline killed during pretraining goes on where it stopped, and reruns only what changed', async () => {
  const file = pipelineFile(4);
  // 1. start, and kill the whole process group as soon as pretrain has a complete checkpoint
  const child = spawn(process.execPath, [cli, 'pipeline', file], { detached: true, stdio: 'ignore' });
  const ckpt = at('run', 'pretrain', 'checkpoints', 'latest.json');
  const deadline = Date.now() + 120_000;
  while (!existsSync(ckpt) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(existsSync(ckpt), 'pretrain wrote no checkpoint in time');
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child.on('close', r));
  // the killed pretrain process (a grandchild) may take a moment to be reaped
  const lock = JSON.parse(readFileSync(at('run', 'pretrain', '.minimind.lock'), 'utf8')) as { pid: number };
  const gone = () => {
    try {
      process.kill(lock.pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!existsSync(at('run', '.pipeline', 'pretrain.done.json')), 'the kill came after pretrain finished: nothing was resumed');
  for (const s of ['chat', 'clean', 'dedup', 'tok']) assert.ok(existsSync(at('run', '.pipeline', `${s}.done.json`)), s);

  // 2. run again: the finished stages are skipped, pretrain resumes, the rest runs
  const r = spawnSync(process.execPath, [cli, 'pipeline', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /\[chat\] done earlier/);
  assert.match(r.stdout, /\[pretrain\] continuing from its last checkpoint/);
  assert.match(r.stdout, /--resume/);
  assert.deepEqual(statuses(), { chat: 'done earlier', clean: 'done earlier', dedup: 'done earlier', tok: 'done earlier', pretrain: 'ran', sft: 'ran', ppl: 'ran' });
  const pre = steps('pretrain');
  assert.equal(pre[pre.length - 1], 40);
  assert.deepEqual(pre, [...new Set(pre)], 'metrics.jsonl reads as one run');
  assert.match(report().stages.find((s) => s.name === 'ppl')!.summary, /perplexity \d/);
  const html = readFileSync(at('run', 'report.html'), 'utf8');
  assert.equal((html.match(/<svg/g) ?? []).length, 2, 'a loss chart for pretrain and for sft');

  // 3. unchanged: nothing runs
  const again = spawnSync(process.execPath, [cli, 'pipeline', file], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /0 run now, 7 done earlier/);
  // ... also where the finished data stages' inputs are gone (they ran on another machine)
  renameSync(at('chat.json'), at('chat.gone'));
  const moved = spawnSync(process.execPath, [cli, 'pipeline', file], { encoding: 'utf8' });
  renameSync(at('chat.gone'), at('chat.json'));
  assert.equal(moved.status, 0, moved.stderr);
  assert.match(moved.stdout, /0 run now, 7 done earlier/);

  // 4. a changed stage runs again, with every stage after it
  const changed = spawnSync(process.execPath, [cli, 'pipeline', pipelineFile(6)], { encoding: 'utf8' });
  assert.equal(changed.status, 0, changed.stderr + changed.stdout);
  assert.deepEqual(statuses(), { chat: 'done earlier', clean: 'done earlier', dedup: 'done earlier', tok: 'done earlier', pretrain: 'done earlier', sft: 'ran', ppl: 'ran' });
  assert.equal(steps('sft').at(-1), 6);
});

test('Ctrl-C during a stage: the stage saves its checkpoint and the pipeline exits 130 (as a stage does), with one minimind: line', async () => {
  const file = at('ctrl-c.json');
  const out = at('ctrl-c-run');
  writeFileSync(file, JSON.stringify({ name: 'ctrl-c', out, stages: [
    { name: 'pre', run: 'pretrain', args: { data: at('raw.jsonl'), tokenizer: '../shared/data/minimind-tokenizer/head', preset: 'tiny', 'max-steps': 100000, 'batch-size': 2, 'accumulation-steps': 1, 'max-seq-len': 32, 'save-interval': 1, quiet: true } },
  ] }));
  // the whole process group, as a terminal sends it
  const child = spawn(process.execPath, [cli, 'pipeline', file], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const ckpt = join(out, 'pre', 'checkpoints', 'latest.json');
  const deadline = Date.now() + 120_000;
  while (!existsSync(ckpt) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(existsSync(ckpt), 'pretrain wrote no checkpoint in time');
  process.kill(-child.pid!, 'SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 130, stderr);
  assert.match(stderr.trim().split('\n').pop()!, /^minimind: stage pre \(minimind pretrain\) was interrupted; its output is in .*Run the pipeline again to go on/);
});

test('bad pipeline files and failing stages are one minimind: line, exit 2', () => {
  const cases: [unknown, RegExp][] = [
    [{ stages: [] }, /"stages" must be a non-empty list/],
    [{ stages: [{ name: 'a', run: 'data clean', args: { data: '${b}' } }] }, /stage a: \$\{b\} is not an earlier stage/],
    [{ stages: [{ name: 'a', run: 'data clean', wat: 1 }] }, /unknown field\(s\) wat/],
    [{ out: at('bad-run'), stages: [{ name: 'a', run: 'data clean', inputs: [at('empty.jsonl')] }] }, /stage a \(minimind data clean\) failed with exit code 2; its output is in/],
    [{ out: at('glob-run'), stages: [{ name: 'a', run: 'data clean', inputs: [at('raw.jsonl')] }, { name: 'poems', run: 'data convert', inputs: [at('nowhere', 'poet.*.json')], args: { to: 'pretrain' } }] },
      /^minimind: stage poems: no files match .*poet\.\*\.json: folder .*nowhere not found \(no stage was run\)$/],
    // an input named in a later stage that is not there: refused before the first stage runs
    [{ out: at('missing-run'), stages: [{ name: 'a', run: 'data clean', inputs: [at('raw.jsonl')] }, { name: 'b', run: 'sft', args: { data: `\${a},${at('missing.jsonl')}`, 'init-from': '${a}' } }] },
      /^minimind: stage b: --data .*missing\.jsonl not found; put it there or fix the pipeline file \(no stage was run\)$/],
    // a flag its command does not take, in the last stage: refused before the first stage runs
    [{ out: at('flag-run'), stages: [{ name: 'a', run: 'data clean', inputs: [at('missing.jsonl')] }, { name: 'b', run: 'grpo', args: { data: '${a}', 'init-from': 'm', device: 'auto' } }] },
      /^minimind: stage b: unknown option '--device' \(see 'minimind grpo --help'\); fix its args in the pipeline file \(no stage was run\)$/],
  ];
  writeFileSync(at('empty.jsonl'), '');
  for (const [spec, re] of cases) {
    const f = at('bad.json');
    writeFileSync(f, JSON.stringify(spec));
    const r = spawnSync(process.execPath, [cli, 'pipeline', f], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[lines.length - 1], /^minimind: /);
    assert.match(lines[lines.length - 1], re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.ok(!existsSync(at('missing-run', 'a.jsonl')), 'no stage ran');
  writeFileSync(at('bad.yaml'), 'stages: [\n');
  const y = spawnSync(process.execPath, [cli, 'pipeline', at('bad.yaml')], { encoding: 'utf8' });
  assert.equal(y.status, 2);
  assert.match(y.stderr, /^minimind: .*bad\.yaml: not valid YAML/);
  const d = spawnSync(process.execPath, [cli, 'pipeline', dir], { encoding: 'utf8' });
  assert.equal(d.status, 2, d.stderr);
  assert.match(d.stderr, /^minimind: .* is not a file; give a pipeline file/);
});

test('the shipped pipelines parse and resolve every reference (dry run)', async () => {
  const { loadPipeline } = await import('../../src/pipeline/spec.js');
  const { planPipeline } = await import('../../src/pipeline/run.js');
  for (const f of ['pipelines/minimind.yaml', 'pipelines/poetry-demo.yaml', 'pipelines/poetry-demo-gpu.yaml']) {
    const spec = await loadPipeline(f);
    const plan = planPipeline(spec, { lenient: true });
    assert.ok(plan.length >= 8, f);
    for (const p of plan) assert.doesNotMatch(p.argv.join(' '), /\$\{/, `${f}: ${p.name}`);
    // every stage's flags are ones its command takes (the dry run checks them as a real run does)
    const dry = spawnSync(process.execPath, [cli, 'pipeline', f, '--dry-run'], { encoding: 'utf8' });
    assert.equal(dry.status, 0, `${f}: ${dry.stderr}`);
  }
  const mm = planPipeline(await loadPipeline('pipelines/minimind.yaml'), { lenient: true });
  assert.deepEqual(mm.map((p) => p.run), ['data stats', 'data tokenize', 'pretrain', 'sft', 'lora', 'dpo', 'grpo', 'eval ceval', 'export gguf']);
  const pre = mm.find((p) => p.name === 'pretrain')!.argv.join(' ');
  assert.match(pre, /--data runs\/minimind\/pretrain-tokens .*--learning-rate 0\.0005 --accumulation-steps 8 --max-seq-len 340/);
});
