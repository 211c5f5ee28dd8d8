#!/usr/bin/env python3
"""PyTorch's attention on the shapes bench/cuda-gemm.ts times ours on: F.scaled_dot_product_attention, bf16,
causal, GQA (k/v repeated to the query heads as MiniMind's repeat_kv does), forward and forward+backward,
CUDA events over 20 runs after 3 warm-ups. One JSON line per shape.

  python3 bench/torch_sdpa.py
"""
import json
import torch
import torch.nn.functional as F

def timed(fn, runs=20, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(runs):
        fn()
    b.record()
    torch.cuda.synchronize()
    return a.elapsed_time(b) / runs

for shape, B, T, H, KVH, D in [("v1-small layer 64x512", 64, 512, 16, 8, 32), ("minimind-3 layer 64x512", 64, 512, 8, 4, 96)]:
    q = torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    k = torch.randn(B, KVH, T, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    v = torch.randn(B, KVH, T, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    g = torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16)
    rep = H // KVH
    def fwd():
        return F.scaled_dot_product_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1), is_causal=True)
    def fwd_bwd():
        q.grad = k.grad = v.grad = None
        fwd().backward(g)
    f = timed(fwd)
    fb = timed(fwd_bwd)
    flops = 2 * 2 * B * H * T * T * D / 2
    print(json.dumps({"bench": "torch-sdpa", "torch": torch.__version__, "shape": shape, "forward_ms": round(f, 3), "backward_ms": round(fb - f, 3),
                      "forward_tflops": round(flops / f / 1e9, 1), "backward_tflops": round(2.5 * flops / (fb - f) / 1e9, 1)}))
