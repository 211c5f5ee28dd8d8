#!/usr/bin/env bash
# Data-parallel checks on a machine with 2+ GPUs, in under 4 minutes (issue 15). Run after
# `source scripts/device-cuda.sh` (node, runtime modules, cuBLAS); needs dist/ and build-cuda/
# built from this tree (the addon with nccl.cc), .anchors/torch_minimind.py, .anchors/tok and
# .anchors/pretrain_wiki_demo.jsonl. Finds libnccl (system, else pip's nvidia-nccl), then runs
# bench/dist-gpu.ts: 2-GPU vs 1-GPU losses, resume 2 -> 1 GPU, a killed rank, tokens/s beside
# PyTorch DDP. Prints a table; exit status 1 when a check fails.
#   bash scripts/device-dist-test.sh [extra dist-gpu flags, e.g. --only equiv,kill]
set -uo pipefail
export NCCL_NVLS_ENABLE=0
if [ -z "${MINIMIND_NCCL:-}" ] && ! ldconfig -p | grep -q libnccl.so.2; then
  for d in /usr/lib/x86_64-linux-gnu /usr/local/cuda/lib64 $(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null); do
    [ -f "$d/libnccl.so.2" ] && export MINIMIND_NCCL="$d/libnccl.so.2" && break
  done
fi
GPUS=$(nvidia-smi -L | wc -l)
echo "gpus: $GPUS  nccl: ${MINIMIND_NCCL:-system}"
if [ "$GPUS" -lt 2 ]; then echo "device-dist-test: needs 2 or more GPUs (found $GPUS)"; exit 2; fi
# the addon loads, sees its GPU, and has NCCL
node --input-type=module -e "
const { loadCudaBackend, cudaLoadError } = await import('./dist/src/backends/cuda/index.js');
const b = loadCudaBackend();
if (!b) { console.error('cuda backend:', cudaLoadError()); process.exit(1); }
console.log('cuda:', b.deviceName, '| nccl', b.nccl.version());
" || exit 1
timeout 235 node dist/bench/dist-gpu.js --gpus 2 "$@"
