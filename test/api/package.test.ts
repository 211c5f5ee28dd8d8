// The package as a user gets it: the files `npm pack` would publish are copied into a separate
// project's node_modules/minimind (with the addon `npm install` would have built), and a program
// there imports 'minimind' by name, type-checks against the published .d.ts, trains a tiny model
// through the library API, loads it back and generates. Also: deep imports are closed by
// `exports`, and the library layers never reach into the CLI, exit the process or take signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve('.');

function packedFiles(): string[] {
  // --ignore-scripts: `prepare` would rebuild dist/ under the running tests
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path);
}

const CONSUMER_TS = `import { pretrain, loadModelFolder, generate, trainTokenizer, Tokenizer, UserError, type PretrainOptions, type StepReport, type TrainSummary } from 'minimind';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const texts = Array.from({ length: 64 }, (_, i) => \`The capital of country \${i % 8} is city \${(i * 3) % 8}. \${i} plus 1 is \${i + 1}.\`);
writeFileSync(join(dir, 'pretrain.jsonl'), texts.map((text) => JSON.stringify({ text })).join('\\n'));
trainTokenizer({ texts, vocabSize: 320, preset: 'minimind3' }).save(join(dir, 'tok'));
const reports: StepReport[] = [];
const options: PretrainOptions = {
  data: join(dir, 'pretrain.jsonl'), tokenizer: join(dir, 'tok'), out: join(dir, 'run'),
  preset: 'tiny-3', hiddenSize: 32, numHiddenLayers: 1, maxSeqLen: 32, batchSize: 8, accumulationSteps: 1, epochs: 4, learningRate: 3e-3,
  onProgress: (r) => reports.push(r),
};
const summary: TrainSummary = await pretrain(options);
const { model } = loadModelFolder(summary.modelDir);
const tok = Tokenizer.load(summary.modelDir);
const [out] = generate(model, tok.encode('The capital'), { maxNewTokens: 4, temperature: 0 });
let refused = '';
try {
  await pretrain(options); // the run folder now holds a run: refused without resume/overwrite
} catch (e) {
  refused = e instanceof UserError ? e.message : 'not a UserError: ' + String(e);
}
console.log(JSON.stringify({ steps: summary.steps, reports: reports.length, first: summary.losses[0], last: summary.finalLoss, generated: out.ids.length, refused }));
`;

test('the packed package imports by name from another project, type-checks, and trains a tiny model', { timeout: 300_000 }, () => {
  const files = packedFiles();
  for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'binding.gyp', 'src/backends/cpu/addon.cc']) assert.ok(files.includes(f), `npm pack lacks ${f}`);
  assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('test/')), 'tests are not published');
  const project = mkdtempSync(join(tmpdir(), 'mm-consumer-'));
  const pkg = join(project, 'node_modules', 'minimind');
  for (const f of files) {
    mkdirSync(dirname(join(pkg, f)), { recursive: true });
    cpSync(join(root, f), join(pkg, f));
  }
  // what the package's install script would have built
  const addon = join(root, 'build', 'Release', 'minimind_cpu.node');
  if (existsSync(addon)) cpSync(addon, join(pkg, 'build', 'Release', 'minimind_cpu.node'));
  // its one runtime dependency, as npm would have installed it
  const deps = Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).dependencies ?? {});
  for (const d of deps) {
    mkdirSync(dirname(join(project, 'node_modules', d)), { recursive: true });
    symlinkSync(join(root, 'node_modules', d), join(project, 'node_modules', d), 'dir');
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  writeFileSync(join(project, 'main.ts'), CONSUMER_TS);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')] }, files: ['main.ts'] }));
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, `the consumer does not type-check against the published types:\n${tsc.stdout}${tsc.stderr}`);
  const work = join(project, 'work');
  mkdirSync(work);
  const r = spawnSync(process.execPath, [join(project, 'main.js'), work], { cwd: project, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(res.steps, 32); // 4 epochs × 64 texts / batch 8
  assert.equal(res.reports, res.steps, 'onProgress is called once per optimizer step');
  assert.ok(res.last < res.first * 0.8, `loss ${res.first} -> ${res.last}`);
  assert.ok(res.generated > 0);
  assert.match(res.refused, /already holds a run .*--resume.*--overwrite/);
  // `exports` closes the package's internals
  const deep = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('minimind/dist/src/cli/args.js')"], { cwd: project, encoding: 'utf8' });
  assert.notEqual(deep.status, 0);
  assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
  rmSync(project, { recursive: true, force: true });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('library layers never import the CLI, exit the process or install signal handlers', () => {
  const offenders: string[] = [];
  for (const f of sources('src')) {
    const rel = relative('src', f);
    if (rel.startsWith('cli/')) continue;
    const text = readFileSync(f, 'utf8');
    if (/from '(\.\.\/)+cli\//.test(text)) offenders.push(`${rel}: imports src/cli`);
    if (/process\.exit\(/.test(text)) offenders.push(`${rel}: process.exit`);
    if (/process\.(on|once)\('SIG/.test(text)) offenders.push(`${rel}: signal handler`);
  }
  assert.deepEqual(offenders, []);
});
