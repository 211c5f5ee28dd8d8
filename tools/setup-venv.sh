#!/usr/bin/env bash
# Creates .venv (git-ignored) with the Python packages the fixture generators in tools/ need:
# torch (CPU), transformers, safetensors, tokenizers, the readers the interop tests use (peft, gguf), and xxhash
# (tools/corpus/reference_minhash.py). Resolves offline from the machine's local
# wheel index (pip is configured with find-links / a file:// index), so no network is used.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# The default index (pypi.org) is unreachable here; point pip at the local file:// indexes so it never waits on it.
export PIP_INDEX_URL=${PIP_INDEX_URL:-file:///opt/pypi/simple}
.venv/bin/pip install -q 'torch==2.13.*' transformers safetensors tokenizers numpy jinja2 'peft==0.21.*' 'gguf==0.19.*' pandas xxhash
.venv/bin/python -c 'import torch, transformers, safetensors; print("torch", torch.__version__, "transformers", transformers.__version__, "safetensors", safetensors.__version__)'
