// `minimind quickstart`: flags -> QuickstartOptions -> quickstart() (src/train/quickstart.ts),
// then the sample conversations and the held-out accuracy on stdout.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { numberFlag, parseFlags } from '../args.js';
import { runStageCommand } from '../stage.js';
import { quickstart, type KindScore, type QuickstartResult } from '../../train/quickstart.js';
import { formatDuration } from '../progress.js';
import type { StageOptions } from '../../train/options.js';

const USAGE = `Usage: minimind quickstart [options]

Trains a tokenizer and a small chat model from scratch on built-in, generated data (English and
Chinese facts: capitals of 40 countries, sums of single digits), then measures how often it answers
questions about held-out facts it only read during pretraining, alone and as later turns of
a chat. The chat model lands in <out>/sft/model, set to the greedy decoding it was measured with.

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
  const turn = (s: QuickstartResult['samples'][number]) => `  user:      ${s.question}\n  assistant: ${s.answer}${s.correct === undefined ? '' : s.correct ? '  ✓' : '  ✗'}`;
  for (const s of r.samples) console.log(`${turn(s)}\n`);
  console.log(`One chat of three turns (turns 2 and 3 held-out):`);
  console.log(`${r.chatSample.map(turn).join('\n')}\n`);
  const line = (k: KindScore) => `${(100 * k.accuracy).toFixed(1)}% of ${k.total} (English ${k.en}, Chinese ${k.zh})`;
  console.log(`Held-out questions (facts read in pretraining, never asked in SFT), whole answer graded:`);
  console.log(`  asked alone:                         sums ${line(r.heldOutByKind.sum)}; capitals ${line(r.heldOutByKind.capital)}`);
  console.log(`  asked as turns 2 and 3 of a chat:    sums ${line(r.heldOutChatByKind.sum)}; capitals ${line(r.heldOutChatByKind.capital)}`);
  console.log(`Questions seen in SFT, asked alone:    sums ${line(r.seenByKind.sum)}; capitals ${line(r.seenByKind.capital)}`);
  console.log(`Total time ${formatDuration(r.seconds)} (mm:ss).`);
  console.log(`\nChat with it (greedy, as evaluated):  npx minimind chat --model ${shellPath(r.modelDir)}`);
  console.log(`Loss curves:   ${shellPath(join(out, 'pretrain', 'report.html'))}  and  ${shellPath(join(out, 'sft', 'report.html'))}`);
}

/** A path as a user types it in this folder: relative when it lies below, quoted when the shell needs it. */
function shellPath(p: string): string {
  const rel = relative(process.cwd(), resolve(p));
  const shown = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(p);
  return /^[\w./@%+=:,-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}
