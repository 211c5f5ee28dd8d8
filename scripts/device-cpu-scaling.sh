#!/usr/bin/env bash
# CPU thread scaling on the GPU machine's Xeon (issue 12): v1-small training, 8 x 512, fp32 and bf16
# (ours: AMX tiles where the CPU has them; PyTorch: bf16 autocast), ours against PyTorch in the same run
# at 16 and 2 threads by default (any list as arguments), each pair pinned to the same first N cores (taskset). Run after
# `source scripts/device-cuda.sh` (carried node, dist/, build/ and .anchors/torch_minimind.py); uses the
# machine's python3 (PyTorch 2.11; PYTHON=... picks another). Also times our GEMM alone (bench/gemm.js,
# the step's shapes) at each thread count. Prints the raw JSON lines, then one table. ~2 minutes
# (1 warm-up + 1 timed step each; 1 and 8 threads add ~3 minutes).
#   bash scripts/device-cpu-scaling.sh [thread counts, default "16 2"]
set -uo pipefail
THREADS="${*:-16 2}"
ONLY="${ONLY:-train v1-small}"   # a workload-name substring of bench/workloads.ts (for a quick check)
SCRIPT=.anchors/torch_minimind.py
[ -f "$SCRIPT" ] || SCRIPT=../shared/anchors/torch_minimind.py
PY=$(command -v "${PYTHON:-python3}")
OUTF=$(mktemp)
lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\))' | sed 's/  */ /g'
"$PY" -c 'import torch; print("torch", torch.__version__, "| mkldnn bf16:", torch.backends.mkldnn.is_available())'
START=$SECONDS
for t in $THREADS; do
  # a time budget (the GPU machine is lent by the minute): nothing new starts after 2 minutes
  if [ $((SECONDS - START)) -gt 120 ]; then echo "skipped $t threads (time)"; continue; fi
  PIN=""
  command -v taskset >/dev/null && [ "$t" -le "$(nproc)" ] && PIN="taskset -c 0-$((t - 1))"
  for p in fp32 bf16; do  # GEMM alone: the v1-small step's shapes, GFLOP/s (no PyTorch side)
    $PIN node dist/bench/gemm.js --threads "$t" --precision $p --seconds 0.1 | tee -a "$OUTF"
  done
  $PIN node dist/bench/torch-anchor.js --threads "$t" --only "$ONLY" --steps 1 --warmup 1 --python "$PY" --script "$SCRIPT" \
    | grep -E '"(workload|error)"' | tee -a "$OUTF"
done
node --input-type=module -e "
import { readFileSync } from 'node:fs';
const rows = readFileSync('$OUTF', 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const f = (x) => (typeof x === 'number' ? x.toFixed(0) : String(x ?? '-'));
console.log('| threads | workload | ours tokens/s | PyTorch tokens/s | ratio | ours isa | torch | ours GEMM mix GFLOP/s |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
const gemm = rows.filter((r) => r.bench === 'gemm');
for (const r of rows) {
  if (r.summary || r.bench === 'gemm') continue;
  if (!r.ours) { console.log('error: ' + r.error); continue; }
  console.log('| ' + [r.threads, r.workload, f(r.ours.tokens_per_second) + (r.ours.error ? ' (' + r.ours.error + ')' : ''), f(r.torch.tokens_per_second) + (r.torch.error ? ' (' + r.torch.error + ')' : ''), r.speed_ratio ?? '-', r.ours.isa ?? '-', r.torch.torch ?? '-',
    f(gemm.find((g) => g.threads === r.threads && g.precision === (r.workload.includes('bf16') ? 'bf16' : 'fp32'))?.training_mix_gflops)].join(' | ') + ' |');
}
"
rm -f "$OUTF"
