#!/usr/bin/env bash
# On the GPU machine (no Node.js, no network): unpack the carried node, put the runtime npm modules
# in place, find cuBLAS, then run what is asked: `tests`, `bench`, or both.
#   carry: .device-node (../shared/tools/device-node.sh), .devmods (runtime node_modules), dist, build, .anchors
set -uo pipefail
source .device-node/activate.sh
[ -d node_modules ] || cp -r .devmods/node_modules ./node_modules
if ! ldconfig -p | grep -q libcublas.so.13; then
  for d in /usr/local/cuda/lib64 $(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null); do
    [ -f "$d/libcublas.so.13" ] && export MINIMIND_CUBLAS="$d/libcublas.so.13" && break
  done
fi
export NCCL_NVLS_ENABLE=0
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "cublas: ${MINIMIND_CUBLAS:-system}"
