#!/usr/bin/env bash
# Issue 26 on the GPU machine, one command: the CUDA tests; ours against PyTorch eager and torch.compile
# (bench/gpu-anchor.js) on v1-small and minimind-3; ours with the previous RMSNorm backward
# (MINIMIND_CUDA_RMSNORM_BACKWARD=split) in the same run; the per-kernel profile of a minimind-3 step.
#   carry: this worktree copy (dist, build-cuda, .device-node, runtime node_modules) and ../shared
set -uo pipefail
source scripts/device-cuda.sh 2>/dev/null
out=${OUT:-/tmp/out}
anchor=../shared/anchors/torch_minimind.py
echo "== tests"; node scripts/run-tests.mjs cuda > $out/tests.log 2>&1; grep -E '^\s*not ok|^# (pass|fail|skipped)|memory a step adds|peak MiB of a probe' $out/tests.log; grep -A12 'not ok' $out/tests.log | head -40
for w in "v1-small bf16" "minimind-3"; do node dist/bench/gpu-anchor.js --steps 8 --warmup 3 --only "$w" --script $anchor 2>&1 | tee -a $out/anchor.log | grep '^| train'; done
echo "== split RMSNorm backward (the previous kernels)"
for p in v1-small minimind-3; do MINIMIND_CUDA_RMSNORM_BACKWARD=split node dist/src/cli/main.js bench train --preset $p --batch 64 --seq 512 --steps 8 --warmup 3 --device cuda --dtype bf16 --json | tee -a $out/split.log | grep -o '"preset":"[^"]*"\|"tokens_per_second":[0-9.]*' | paste - -; done
echo "== profile minimind-3 64x512"; MINIMIND_CUDA_PROFILE=1 node dist/src/cli/main.js bench train --preset minimind-3 --batch 64 --seq 512 --steps 3 --warmup 2 --device cuda --dtype bf16 > $out/profile.log 2>&1; grep -v '^{' $out/profile.log | head -14
