# Runs a PyTorch anchor script (argv[1], e.g. ../shared/anchors/torch_minimind.py) with the remaining
# arguments, then prints one more JSON line with the peak GPU memory PyTorch allocated
# (torch.cuda.max_memory_allocated, the counterpart of our allocator's peak of live blocks).
import json
import runpy
import sys

import torch

script = sys.argv[1]
sys.argv = [script] + sys.argv[2:]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    if torch.cuda.is_available():
        print(json.dumps({"peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2**20}), flush=True)
