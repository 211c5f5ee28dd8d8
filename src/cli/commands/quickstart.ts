// `minimind quickstart`: flags -> QuickstartOptions -> quickstart() (src/train/quickstart.ts),
// then the sample conversations and the held-out accuracy on stdout.
import { join } from 'node:path';
import { numberFlag, parseFlags } from '../args.js';
import { runStageCommand } from '../stage.js';
import { quickstart, type KindScore, type QuickstartResult } from '../../train/quickstart.js';
import { formatDuration } from '../../train/progress.js';
import type { StageOptions } from '../../train/options.js';

const USAGE = `Usage: minimind quickstart [options]

Trains a tokenizer and a small chat model from scratch on built-in, generated data (English and
Chinese facts: capitals of 40 countries, sums of single digits), then measures how often it answers
questions about held-out facts it only read during pretraining.

  --out DIR                 run folder [runs/quickstart]
  --overwrite               replace an earlier quickstart in --out
  --seed N                  data split, initialisation and shuffling [42]
  --hidden-size N [128]  --num-hidden-layers N [4]  --vocab-size N [1024]
  --pretrain-epochs N [40]  --sft-epochs N [12]
  --small                   a much smaller, faster run (for tests; answers are mostly wrong)
  --quiet                   print nothing but errors`;

export async function run(argv: string[]): Promise<void> {
  const p = parseFlags(argv, {
    out: { type: 'string' },
    overwrite: { type: 'boolean' },
    seed: { type: 'string' },
    'hidden-size': { type: 'string' },
    'num-hidden-layers': { type: 'string' },
    'vocab-size': { type: 'string' },
    'pretrain-epochs': { type: 'string' },
    'sft-epochs': { type: 'string' },
    small: { type: 'boolean' },
    quiet: { type: 'boolean' },
  }, USAGE);
  if (!p) return;
  const v = p.values;
  const num = (name: string) => (v[name] === undefined ? undefined : numberFlag(v, name, NaN));
  const out = typeof v.out === 'string' ? v.out : join('runs', 'quickstart');
  const quiet = !!v.quiet;
  let result: QuickstartResult | null = null;
  // The stage wrapper gives the quickstart the same progress bar and Ctrl-C handling as the stages.
  await runStageCommand('quickstart', { data: [], out, quiet } as StageOptions & { quiet: boolean }, async (o) => {
    result = await quickstart({
      out, overwrite: !!v.overwrite, small: !!v.small, seed: num('seed'), hiddenSize: num('hidden-size'), numHiddenLayers: num('num-hidden-layers'),
      vocabSize: num('vocab-size'), pretrainEpochs: num('pretrain-epochs'), sftEpochs: num('sft-epochs'), log: o.log, onProgress: o.onProgress, signal: o.signal,
    });
    return result.interrupted ?? { steps: 0, losses: [], finalLoss: NaN, evalLoss: null, seconds: result.seconds, tokens: 0, stoppedEarly: false, interrupted: false, checkpointDir: null, modelDir: result.modelDir };
  });
  const r = result as QuickstartResult | null;
  if (quiet || !r || r.interrupted) return;
  console.log(`\nSample conversations (greedy; ✓/✗ on held-out facts the model never saw as a question):`);
  for (const s of r.samples) console.log(`  user:      ${s.question}\n  assistant: ${s.answer}${s.correct === undefined ? '' : s.correct ? '  ✓' : '  ✗'}\n`);
  const line = (k: KindScore) => `${(100 * k.accuracy).toFixed(1)}% of ${k.total} (English ${k.en}, Chinese ${k.zh})`;
  console.log(`Held-out questions (facts read in pretraining, never asked in SFT), whole answer graded:`);
  console.log(`  sums:     ${line(r.heldOutByKind.sum)}`);
  console.log(`  capitals: ${line(r.heldOutByKind.capital)}`);
  console.log(`Questions seen in SFT: sums ${line(r.seenByKind.sum)}; capitals ${line(r.seenByKind.capital)}`);
  console.log(`Total time ${formatDuration(r.seconds)} (mm:ss).`);
  console.log(`\nChat with it:  minimind chat --model ${r.modelDir}`);
  console.log(`Loss curves:   ${join(out, 'pretrain', 'report.html')}  and  ${join(out, 'sft', 'report.html')}`);
}
