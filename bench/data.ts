// `minimind data` throughput against Python references, in one run, on one file:
//   clean    ours `data clean --gopher --c4` vs tools/corpus/reference_filters.py (the same rules in Python)
//   exact    ours `data dedup --exact-only` vs md5 of the NFKC / lower / whitespace key (reference_bench.py)
//   near     ours `data dedup --near-only` vs tools/corpus/reference_minhash.py (datatrove's MinHash with numpy + xxhash)
//   tokenize ours `data tokenize --kind pretrain` vs the Rust `tokenizers` library (reference_bench.py)
// The corpus: C4, Wikipedia and TinyStories text from ../shared/data, repeated (each copy with its own
// prefix, so exact dedup keeps it and near dedup sees near duplicates) to --mb megabytes.
// Wall time and peak RSS of each whole process (/usr/bin/time). With --memory-mb M it also runs exact
// dedup and clean (repairs only) on a file --memory-x times the --max-old-space-size cap of M MB.
// --only NAMES runs only the cases whose name starts with one of NAMES (comma-separated: clean, exact, near, tokenize).
// Usage: npx tsc -p . && node dist/bench/data.js [--mb 8] [--threads 2] [--only tokenize | --only exact,near] [--memory-mb 64 --memory-x 4]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const MB = arg('mb', 8);
const THREADS = arg('threads', 2);
const MEM = arg('memory-mb', 0);
const MEM_X = arg('memory-x', 4);
const onlyAt = process.argv.indexOf('--only');
const ONLY = onlyAt >= 0 ? process.argv[onlyAt + 1].split(',') : null;
const DATA = '../shared/data';
const PY = '.venv/bin/python';
const cli = resolve('dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mm-bench-data-'));

function baseTexts(): string[] {
  const c4 = readFileSync(`${DATA}/llamafactory-demo/c4_demo.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l).text as string);
  const wiki = readFileSync(`${DATA}/llamafactory-demo/wiki_demo.txt`, 'utf8').split('\n').filter((l) => l.trim());
  const stories = readFileSync(`${DATA}/tinystories/tinystories_val_prefix.txt`, 'utf8').split(/\n\n(?=Once upon a time|One day)/);
  return [...c4, ...wiki, ...stories];
}

/** Writes about `mb` MB of jsonl: the base texts again and again, copy k prefixed with "Part k." */
async function corpus(path: string, mb: number): Promise<number> {
  const texts = baseTexts();
  const out = createWriteStream(path);
  let bytes = 0;
  for (let k = 0; bytes < mb * 1e6; k++) {
    for (const t of texts) {
      const line = JSON.stringify({ text: k === 0 ? t : `Part ${k}. ${t}` }) + '\n';
      if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
      bytes += Buffer.byteLength(line);
    }
  }
  await new Promise<void>((r) => out.end(() => r()));
  return statSync(path).size;
}

/** Runs a command under /usr/bin/time: wall seconds, peak RSS (MB), stdout. */
function timed(cmd: string[]): { seconds: number; rssMb: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const rssKb = Number(r.stderr.trim().split('\n').pop());
  return { seconds, rssMb: rssKb / 1024, stdout: r.stdout };
}

const node = (...a: string[]) => [process.execPath, cli, ...a, '--no-progress'];
const input = join(dir, 'bench.jsonl');
const bytes = await corpus(input, MB);
// the corpus on disk before any timing: a command that fsyncs its output (ours do) must not also
// wait for the kernel to write back the corpus just generated (it did, in whichever case ran first)
spawnSync('sync');
const tok = `${DATA}/minimind-tokenizer/minimind2`;
const out = (n: string) => join(dir, n);
const rows: Record<string, unknown>[] = [];
const cases: [string, string[], string[]][] = [
  ['clean (gopher + c4)', node('data', 'clean', input, '--gopher', '--c4', '--threads', String(THREADS), '--output', out('c.jsonl')), [PY, 'tools/corpus/reference_filters.py', input, out('c-ref.jsonl')]],
  ['exact dedup', node('data', 'dedup', input, '--exact-only', '--threads', String(THREADS), '--output', out('e.jsonl')), [PY, 'tools/corpus/reference_bench.py', 'exact', input, out('e-ref.jsonl')]],
  ['near dedup (MinHash 14x8)', node('data', 'dedup', input, '--near-only', '--threads', String(THREADS), '--output', out('n.jsonl')), [PY, 'tools/corpus/reference_minhash.py', input, out('n-ref.jsonl')]],
  ['tokenize (minimind2, 512)', node('data', 'tokenize', input, '--kind', 'pretrain', '--threads', String(THREADS), '--max-seq-len', '512', '--tokenizer', tok, '--output', out('tok')), [PY, 'tools/corpus/reference_bench.py', 'tokenize', input, tok, '512']],
];
const lines = (p: string) => readFileSync(p, 'utf8').trim().split('\n');
/** The same result on both sides: kept rows, or tokens. */
function agree(name: string, ours: string, ref: string): string {
  const refJson = ref.trim().startsWith('{') ? JSON.parse(ref.trim().split('\n').pop()!) : null;
  if (name.startsWith('clean')) {
    const keptRef = lines(out('c-ref.jsonl')).filter((l) => JSON.parse(l).keep).length;
    return `kept ${lines(out('c.jsonl')).length} / ${keptRef}`;
  }
  if (name.startsWith('exact')) return `kept ${lines(out('e.jsonl')).length} / ${refJson.kept}`;
  if (name.startsWith('near')) return `kept ${lines(out('n.jsonl')).length} / ${lines(out('n-ref.jsonl')).filter((l, i) => JSON.parse(l).cluster === i).length}`;
  return `tokens ${/([\d,]+) tokens/.exec(ours)![1].replace(/,/g, '')} / ${refJson.tokens}`;
}
for (const [name, ours, ref] of cases) {
  if (ONLY && !ONLY.some((o) => name.startsWith(o))) continue;
  const a = timed(ours);
  const b = timed(ref);
  rows.push({ name, mb: bytes / 1e6, ours_s: a.seconds, ours_mb_s: bytes / 1e6 / a.seconds, ours_rss_mb: a.rssMb, ref_s: b.seconds, ref_mb_s: bytes / 1e6 / b.seconds, ref_rss_mb: b.rssMb, speedup: b.seconds / a.seconds, same_result: agree(name, a.stdout, b.stdout) });
  const r = rows[rows.length - 1] as Record<string, number>;
  console.log(`${name.padEnd(28)} ours ${r.ours_mb_s.toFixed(2)} MB/s (${r.ours_s.toFixed(1)} s, ${r.ours_rss_mb.toFixed(0)} MB)   ref ${r.ref_mb_s.toFixed(2)} MB/s (${r.ref_s.toFixed(1)} s, ${r.ref_rss_mb.toFixed(0)} MB)   ${r.speedup.toFixed(2)}x   (ours / ref: ${r.same_result})`);
}
if (MEM > 0) {
  const big = join(dir, 'big.jsonl');
  const bigBytes = await corpus(big, MEM * MEM_X);
  for (const [name, cmd] of [
    ['exact dedup', ['data', 'dedup', big, '--exact-only', '--threads', String(THREADS), '--output', out('big-e.jsonl')]],
    ['clean (repairs only)', ['data', 'clean', big, '--threads', String(THREADS), '--output', out('big-c.jsonl')]],
  ] as const) {
    const r = timed([process.execPath, `--max-old-space-size=${MEM}`, cli, ...cmd, '--no-progress']);
    rows.push({ name: `${name}, ${(bigBytes / 1e6).toFixed(0)} MB file, ${MEM} MB heap cap`, seconds: r.seconds, mb_s: bigBytes / 1e6 / r.seconds, peak_rss_mb: r.rssMb });
    console.log(`${name} on ${(bigBytes / 1e6).toFixed(0)} MB with a ${MEM} MB heap cap: ${r.seconds.toFixed(1)} s, peak RSS ${r.rssMb.toFixed(0)} MB`);
  }
}
writeFileSync(join(dir, 'result.json'), JSON.stringify(rows));
console.log(JSON.stringify({ date: new Date().toISOString(), threads: THREADS, rows }));
