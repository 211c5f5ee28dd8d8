#!/usr/bin/env bash
# Issue 26 on the GPU machine, one command: the CUDA tests, then ours against PyTorch eager (and with
# --compile unless NO_COMPILE=1) on minimind-3 64x512, our --gradient-checkpointing at the same batch,
# MiniMind's SFT length (16 x 2048) with and without checkpointing (PyTorch eager beside it), the
# 8G cap, and the per-kernel profile of a minimind-3 step. Logs under $OUT.
#   carry: this worktree copy (dist, build, build-cuda, .device-node) and ../shared (anchors, tokenizer)
set -uo pipefail
source scripts/device-cuda.sh 2>/dev/null
out=${OUT:-/tmp/out}
anchor=../shared/anchors/torch_minimind.py
b() { node dist/src/cli/main.js bench train --device cuda --dtype bf16 --json "$@" 2>&1 | grep '^{' | tail -1; }
t() { python3 bench/torch_gpu_peak.py $anchor --mode train --device cuda --dtype bf16 --max-len 4096 "$@" 2>&1 | grep "^{"; }
M3="--d-model 768 --n-layers 8 --n-heads 8 --n-kv-heads 4"
echo "== tests"; node scripts/run-tests.mjs cuda > $out/tests.log 2>&1; grep -E '^\s*not ok|^# (pass|fail|skipped)|memory a step adds|peak MiB of a probe' $out/tests.log; grep -A12 'not ok' $out/tests.log | head -60
echo "== anchor"; node dist/bench/gpu-anchor.js ${NO_COMPILE:+--no-compile} --steps 8 --warmup 3 --only "${ONLY:-minimind-3}" --script $anchor 2>&1 | tee $out/anchor.log | grep -v '^{'
echo "== minimind-3 64x512 --gradient-checkpointing"; b --preset minimind-3 --batch 64 --seq 512 --steps 8 --warmup 3 --gradient-checkpointing | tee -a $out/bench.log
echo "== minimind-3 16x2048 plain / checkpointed under 8G / eager"
b --preset minimind-3 --batch 16 --seq 2048 --steps 4 --warmup 2 | tee -a $out/bench.log
b --preset minimind-3 --batch 16 --seq 2048 --steps 4 --warmup 2 --gradient-checkpointing --max-gpu-memory 8G | tee -a $out/bench.log
t --batch 16 --seq 2048 $M3 --steps 4 --warmup 2 | tee -a $out/bench.log
echo "== profile minimind-3 64x512"; MINIMIND_CUDA_PROFILE=1 node dist/src/cli/main.js bench train --preset minimind-3 --batch 64 --seq 512 --steps 3 --warmup 2 --device cuda --dtype bf16 > $out/profile.log 2>&1; grep -v '^{' $out/profile.log | head -40
