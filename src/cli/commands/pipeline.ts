// `minimind pipeline FILE`: runs a pipeline file (src/pipeline): every stage from the previous
// ones' outputs, skipping finished stages, one report at the end.
import { CliError, parseFlags } from '../args.js';

const USAGE = `Usage: minimind pipeline FILE.yaml|FILE.json [--dry-run] [--out DIR]

Runs the stages of FILE in order, each a minimind command (data clean, tokenizer train, pretrain,
sft, lora, dpo, grpo, eval ppl, export gguf, ...) whose inputs are earlier stages' outputs
("\${stage}" in its args). Every stage writes under the pipeline's "out" folder [runs/<name>];
a finished stage leaves a marker there and is not run again, so after a kill or a failure the same
command goes on where it stopped (a training stage from its last checkpoint). A stage whose
command changed runs again, with every stage after it.
Writes <out>/report.html and report.json: each stage's status, time and printed summary, the loss
curves of the training stages and the tables of the evaluations.
Before any stage runs, every stage's flags are checked against its command, and the files that a
stage still to run names itself must exist (a typo or a missing dataset in the last stage is one
line now, not after hours of training).
  --dry-run   print each stage's command and run nothing
  --out DIR   put the pipeline's outputs here instead of the file's "out"
Shipped pipelines: pipelines/minimind.yaml (MiniMind's recipe on its published datasets) and
pipelines/poetry-demo.yaml (chinese-poetry from npm + ../shared/data, clean to chat model).`;

export async function run(argv: string[]): Promise<void> {
  const p = parseFlags(argv, { 'dry-run': { type: 'boolean' }, out: { type: 'string' } }, USAGE);
  if (!p) return;
  if (p.positionals.length !== 1) throw new CliError(`give one pipeline file\n\n${USAGE}`);
  const { loadPipeline } = await import('../../pipeline/spec.js');
  const { runPipeline, PipelineInterrupted } = await import('../../pipeline/run.js');
  const spec = await loadPipeline(p.positionals[0]);
  if (typeof p.values.out === 'string') spec.out = p.values.out;
  const t0 = Date.now();
  // Ctrl-C reaches the running stage too (same process group): it saves a checkpoint and exits 130,
  // and the pipeline waits for that instead of dying first. SIGTERM is passed on to the stage.
  const controller = new AbortController();
  const onInt = () => {};
  const onTerm = () => controller.abort();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let records;
  try {
    records = await runPipeline(spec, { dryRun: p.values['dry-run'] === true, signal: controller.signal });
  } catch (e) {
    if (!(e instanceof PipelineInterrupted)) throw e;
    console.error(`minimind: ${e.message}`);
    process.exitCode = 130;
    return;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  if (p.values['dry-run'] === true) return;
  const ran = records.filter((r) => r.status === 'ran').length;
  console.log(`pipeline ${spec.name}: ${records.length} stages (${ran} run now, ${records.length - ran} done earlier) in ${((Date.now() - t0) / 1000).toFixed(1)} s; report: ${spec.out}/report.html`);
}
