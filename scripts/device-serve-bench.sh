#!/usr/bin/env bash
# Serving on the GPU (issue 10): `minimind serve --device cuda` answering 1, 4 and 16 concurrent
# streaming requests against the same requests one at a time (bench/serve.ts), for v1-small and
# minimind-3, with transformers' generate() on the same GPU as one static batch beside it when
# transformers is installed. The models are random-init models of the presets (bench/serve.ts
# builds the folders; no trained folder is needed: decode speed does not depend on the weights'
# values, and greedy decode of random weights runs every request to its full length).
# Run after `source scripts/device-cuda.sh` (node, runtime modules, cuBLAS); needs dist/,
# build-cuda/ built from this tree and .anchors/tok (any MiniMind tokenizer folder).
#   bash scripts/device-serve-bench.sh [extra bench/serve.ts flags, e.g. --new-tokens 128]
set -uo pipefail
TOK=${MINIMIND_TOKENIZER:-.anchors/tok}
[ -f "$TOK/tokenizer.json" ] || { echo "device-serve-bench: $TOK/tokenizer.json not found (carry .anchors or set MINIMIND_TOKENIZER)"; exit 2; }
node --input-type=module -e "
const { loadCudaBackend, cudaLoadError } = await import('./dist/src/backends/cuda/index.js');
const b = loadCudaBackend();
if (!b) { console.error('cuda backend:', cudaLoadError()); process.exit(1); }
console.log('cuda:', b.deviceName);
" || exit 1
TORCH=()
if python3 -c 'import transformers' 2>/dev/null; then TORCH=(--torch --python python3); else echo "transformers is not installed: the PyTorch reference is left out"; fi
status=0
for preset in v1-small minimind-3; do
  echo "== $preset"
  timeout 280 node dist/bench/serve.js --device cuda --preset "$preset" --streams 1,4,16 --new-tokens 64 --repeats 3 --tokenizer "$TOK" "${TORCH[@]}" "$@" || status=1
done
exit $status
